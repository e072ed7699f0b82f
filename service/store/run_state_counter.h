// RunStateCounter: how many runs the store holds in each state, over all
// tenants (the labelport_runs{state} gauge) or of one tenant (quotas). Cheap enough to call on
// every metrics scrape: one aggregate query, no records decoded.
//
// Implementations: SqliteRunStateCounter (and PostgreSQL beside the
// PostgreSQL RunStore). Thread-safe; blocks on I/O. Errors: UNAVAILABLE /
// INTERNAL for storage failures.
#ifndef LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_H_
#define LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_run.pb.h"

namespace labelport::store {

class RunStateCounter {
 public:
  virtual ~RunStateCounter() = default;

  // Run counts by state; states without runs are absent.
  virtual absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountRunsByState() = 0;
  // The same for the runs of one tenant (e.g. its runs in flight, for quotas).
  virtual absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountTenantRunsByState(
      const std::string& tenant) = 0;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_H_
