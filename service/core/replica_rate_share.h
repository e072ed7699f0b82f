// ReplicaRateShare: keeps this replica's share of a per-API-key rate limit
// fair when N replicas on one store use the same key: every Refresh()
// heartbeats into the ReplicaDirectory and applies total / live_replicas.
// The burst is shared the same way (total_burst / live, at least 1), so
// together the replicas stay under the total in any window.
//
// Changes of membership take effect at the next refresh of each replica:
// at most `heartbeat_interval` after a replica joins or leaves cleanly,
// `ttl` after one dies. When a heartbeat fails the current rate is kept.
//
// Thread-safety: Refresh and Leave may be called from any thread; they
// block on the store (use a PeriodicThread).
#ifndef LABELPORT_SERVICE_CORE_REPLICA_RATE_SHARE_H_
#define LABELPORT_SERVICE_CORE_REPLICA_RATE_SHARE_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/common/metrics.h"
#include "service/store/replica_directory.h"

namespace labelport::core {

class ReplicaRateShare {
 public:
  struct Options {
    // This replica's id in the directory (the worker id).
    std::string replica_id;
    // The limit all replicas together must stay under; > 0.
    double total_requests_per_minute = 1000;
    // Tokens all replicas together may take at once; >= 1.
    int total_burst = 20;
    // How long a heartbeat keeps this replica counted; well above the
    // interval at which Refresh is called (10 s by default: use 30 s).
    absl::Duration ttl = absl::Seconds(30);
  };

  // Applies a new per-replica rate and burst (e.g. TokenBucketRateLimiter::
  // SetRate). Called only when one of them changes.
  using ApplyRate = std::function<void(double requests_per_minute, int burst)>;

  // `directory` and `metrics` (may be null) must outlive this object.
  ReplicaRateShare(store::ReplicaDirectory* directory, ApplyRate apply, Options options,
                   common::Metrics* metrics = nullptr);

  // Heartbeats and applies total / live replicas; returns the live count.
  // On error nothing changes and the error is returned.
  absl::StatusOr<int> Refresh();

  // Leaves the directory (clean shutdown).
  absl::Status Leave();

  // The per-replica rate and burst last applied (the totals before any
  // refresh).
  double requests_per_minute() const;
  int burst() const;

 private:
  store::ReplicaDirectory* directory_;
  const ApplyRate apply_;
  const Options options_;
  common::Metrics* metrics_;
  mutable absl::Mutex mu_;
  double applied_ ABSL_GUARDED_BY(mu_);
  int applied_burst_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_REPLICA_RATE_SHARE_H_
