#include "service/core/replica_rate_share.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/log.h"

namespace labelport::core {

ReplicaRateShare::ReplicaRateShare(store::ReplicaDirectory* directory, ApplyRate apply,
                                   Options options, common::Metrics* metrics)
    : directory_(directory),
      apply_(std::move(apply)),
      options_(std::move(options)),
      metrics_(metrics != nullptr ? metrics : &common::NoMetrics()),
      applied_(options_.total_requests_per_minute),
      applied_burst_(options_.total_burst) {
  metrics_->SetRateLimitPerMinute(applied_);
}

absl::StatusOr<int> ReplicaRateShare::Refresh() {
  absl::StatusOr<int> live = directory_->Heartbeat(options_.replica_id, options_.ttl);
  if (!live.ok()) return live.status();
  const double share = options_.total_requests_per_minute / static_cast<double>(*live);
  const int burst = std::max(1, options_.total_burst / *live);
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    changed = share != applied_ || burst != applied_burst_;
    applied_ = share;
    applied_burst_ = burst;
  }
  if (changed) {
    if (apply_) apply_(share, burst);
    metrics_->SetRateLimitPerMinute(share);
    common::LogInfo(absl::StrFormat(
        "V7 rate limit: %d live replica(s) share %.0f calls/minute; this one uses %.1f, "
        "burst %d",
        *live, options_.total_requests_per_minute, share, burst));
  }
  return live;
}

absl::Status ReplicaRateShare::Leave() { return directory_->Leave(options_.replica_id); }

double ReplicaRateShare::requests_per_minute() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

int ReplicaRateShare::burst() const {
  absl::MutexLock lock(&mu_);
  return applied_burst_;
}

}  // namespace labelport::core
