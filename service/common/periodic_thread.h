// PeriodicThread: runs `tick` on its own thread at once after Start(), then
// every `interval` after the previous tick ended, until Stop(). For periodic
// work that blocks (store heartbeats, readiness checks) and so must not run
// on gRPC or io_context threads.
//
// Stop() wakes the thread, waits for a running tick to end and joins; it is
// idempotent and also called by the destructor. Start/Stop: one caller.
#ifndef LABELPORT_SERVICE_COMMON_PERIODIC_THREAD_H_
#define LABELPORT_SERVICE_COMMON_PERIODIC_THREAD_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace labelport::common {

class PeriodicThread {
 public:
  PeriodicThread(absl::Duration interval, std::function<void()> tick);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  void Start();
  void Stop();

 private:
  void Loop();

  const absl::Duration interval_;
  const std::function<void()> tick_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_PERIODIC_THREAD_H_
