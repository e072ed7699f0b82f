// ReadinessMonitor: decides whether this replica is ready to serve, from
// checks of the dependencies it needs (the store answers; V7 accepts the API
// key). CheckNow() runs every check and, when the verdict changes, tells
// `on_change` (the server maps it to gRPC health SERVING / NOT_SERVING) and
// logs which dependency failed and why. Each check's outcome is also
// reported as Metrics::SetDependencyUp(name, ok).
//
// Checks block and must bound their own time (e.g. a short deadline);
// CheckNow is meant for a PeriodicThread, never a gRPC or io thread.
// Liveness is a separate matter: a replica whose V7 is unreachable is alive
// and should not be restarted, only taken out of load balancing.
//
// Thread-safety: CheckNow may be called from one thread at a time; ready()
// from any thread.
#ifndef LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_
#define LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/common/metrics.h"

namespace labelport::core {

struct DependencyCheck {
  // Short name for logs and metrics ("store", "v7").
  std::string name;
  // OK when the dependency answered as needed.
  std::function<absl::Status()> check;
};

class ReadinessMonitor {
 public:
  // `metrics` may be null; it must outlive the monitor. The first CheckNow
  // always calls `on_change`.
  ReadinessMonitor(std::vector<DependencyCheck> checks, std::function<void(bool ready)> on_change,
                   common::Metrics* metrics = nullptr);

  // Runs every check (all of them, even after a failure, so that each
  // dependency's state is known) and returns whether all passed.
  bool CheckNow();

  // The verdict of the last CheckNow; false before the first.
  bool ready() const { return ready_.load(); }

 private:
  const std::vector<DependencyCheck> checks_;
  const std::function<void(bool)> on_change_;
  common::Metrics* metrics_;
  std::atomic<bool> ready_{false};
  bool checked_once_ = false;
  std::vector<std::string> last_failures_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_
