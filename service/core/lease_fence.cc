#include "service/core/lease_fence.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace labelport::core {

LeaseFence::LeaseFence(std::string run_uid, absl::Duration ttl, absl::Duration margin,
                       absl::Time acquired, Clock clock)
    : run_uid_(std::move(run_uid)),
      ttl_(ttl),
      margin_(margin),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      renewed_nanos_(absl::ToUnixNanos(acquired)) {}

void LeaseFence::MarkRenewed(absl::Time when) {
  const int64_t nanos = absl::ToUnixNanos(when);
  int64_t seen = renewed_nanos_.load();
  while (seen < nanos && !renewed_nanos_.compare_exchange_weak(seen, nanos)) {
  }
}

void LeaseFence::MarkLost() {
  lost_.store(true);
  NotifyAll(LostStatus());
}

absl::Status LeaseFence::LostStatus() const {
  return absl::AbortedError(absl::StrCat("run ", run_uid_,
                                         ": this worker lost the run's lease to another worker, "
                                         "which continues the upload"));
}

absl::Time LeaseFence::deadline() const {
  return absl::FromUnixNanos(renewed_nanos_.load()) + ttl_ - margin_;
}

absl::Status LeaseFence::NotifyIfClosed() {
  absl::Status status = Check();
  if (!status.ok()) NotifyAll(status);
  return status;
}

int64_t LeaseFence::Watch(Watcher watcher) {
  absl::MutexLock lock(&mu_);
  // Checked under the lock: a closure that notifies after this either finds
  // the watcher registered or was seen here.
  if (absl::Status status = Check(); !status.ok()) {
    watcher(status);
    return 0;
  }
  const int64_t id = next_watcher_++;
  watchers_.emplace(id, std::move(watcher));
  return id;
}

void LeaseFence::Unwatch(int64_t id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

void LeaseFence::NotifyAll(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  std::map<int64_t, Watcher> watchers;
  watchers.swap(watchers_);
  for (auto& [id, watcher] : watchers) watcher(status);
}

absl::Status LeaseFence::Check() const {
  if (lost_.load()) {
    closed_seen_.store(true);
    return LostStatus();
  }
  const absl::Time renewed = absl::FromUnixNanos(renewed_nanos_.load());
  const absl::Time now = clock_();
  if (now > renewed + ttl_ - margin_) {
    closed_seen_.store(true);
    return absl::AbortedError(absl::StrCat(
        "run ", run_uid_, ": this worker could not renew the run's lease for ",
        absl::FormatDuration(now - renewed), " (lease ttl ", absl::FormatDuration(ttl_),
        "); it stops writing before the lease may expire and another worker may take the run"));
  }
  return absl::OkStatus();
}

}  // namespace labelport::core
