#include "service/core/run_quota.h"

#include <cstdint>

#include "absl/strings/str_format.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"

namespace labelport::core {

absl::Status RunQuota::CheckRoomForRun(const std::string& tenant) const {
  if (max_runs_in_flight_ <= 0) return absl::OkStatus();
  LP_ASSIGN_OR_RETURN(auto counts, counter_->CountTenantRunsByState(tenant));
  int64_t in_flight = 0;
  for (labelport::v1::RunState state :
       {labelport::v1::RUN_STATE_PENDING, labelport::v1::RUN_STATE_UPLOADING}) {
    if (auto it = counts.find(state); it != counts.end()) in_flight += it->second;
  }
  if (in_flight < max_runs_in_flight_) return absl::OkStatus();
  return common::WithDetails(
      absl::ResourceExhaustedError(absl::StrFormat(
          "This tenant already has %d runs in flight (PENDING or UPLOADING); the limit is %d "
          "(--max_runs_in_flight_per_tenant). Wait for a run to reach ANNOTATING or FAILED, "
          "or delete one, then try again",
          in_flight, max_runs_in_flight_)),
      "", "TENANT_RUNS_IN_FLIGHT_LIMIT");
}

}  // namespace labelport::core
