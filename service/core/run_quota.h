// RunQuota: how many runs one tenant may have in flight (PENDING or
// UPLOADING, i.e. queued for or in upload) at once, so that one tenant
// cannot fill the shared upload queue.
//
// The check is a count before the run is stored, not a reservation: callers
// racing each other may overshoot the limit by the number of concurrent
// creates. Errors: RESOURCE_EXHAUSTED (reason TENANT_RUNS_IN_FLIGHT_LIMIT)
// naming the limit and the flag that sets it; store errors as they are.
// Thread-safety: thread-safe if the counter is.
#ifndef LABELPORT_SERVICE_CORE_RUN_QUOTA_H_
#define LABELPORT_SERVICE_CORE_RUN_QUOTA_H_

#include <string>

#include "absl/status/status.h"
#include "service/store/run_state_counter.h"

namespace labelport::core {

class RunQuota {
 public:
  // `max_runs_in_flight` <= 0 means unlimited (then `counter` may be null);
  // otherwise `counter` must outlive the quota.
  RunQuota(store::RunStateCounter* counter, int max_runs_in_flight)
      : counter_(counter), max_runs_in_flight_(max_runs_in_flight) {}

  // OK when `tenant` has fewer than the limit of runs in flight.
  absl::Status CheckRoomForRun(const std::string& tenant) const;

  int max_runs_in_flight() const { return max_runs_in_flight_; }

 private:
  store::RunStateCounter* counter_;
  int max_runs_in_flight_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_QUOTA_H_
