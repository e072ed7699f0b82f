// LeaseFence: whether the worker that runs a job may still write for it.
//
// A job may write (to the journal, to V7) only while its worker holds the
// run's lease. The lease is renewed by the worker's heartbeat; the fence
// closes when
//   * the heartbeat found the lease held by another worker (MarkLost), or
//   * the last successful renewal is older than `ttl - margin`: the worker
//     cannot tell whether it still holds the lease (e.g. the store is down),
//     and the lease may expire `margin` later, after which another worker may
//     claim the run. The margin leaves calls already in flight time to be
//     abandoned (see Watchers) before the lease can expire.
// A closed fence answers ABORTED with the reason. A renewal (MarkRenewed)
// reopens a fence closed by time (the worker still owns the run: nobody can
// have claimed it before the lease expired); a lost lease stays lost.
//
// Watchers: calls already in flight when the fence closes must be abandoned
// too (a V7 call may take longer than the margin), so whoever makes them can
// Watch the fence: each watcher is told once, when MarkLost closes it, or
// when NotifyIfClosed finds it closed by time (the worker calls that at
// deadline(), re-armed while renewals move it on). Check alone tells nobody.
//
// Thread-safety: every method may be called from any thread.
#ifndef LABELPORT_SERVICE_CORE_LEASE_FENCE_H_
#define LABELPORT_SERVICE_CORE_LEASE_FENCE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace labelport::core {

class LeaseFence {
 public:
  using Clock = std::function<absl::Time()>;
  // Told the fence's ABORTED status when it closes.
  using Watcher = std::function<void(const absl::Status&)>;

  // The lease was acquired by a request sent at `acquired` (the first
  // renewal). `margin` must be below `ttl`; `clock` defaults to absl::Now.
  LeaseFence(std::string run_uid, absl::Duration ttl, absl::Duration margin, absl::Time acquired,
             Clock clock = nullptr);

  // The heartbeat renewed the lease at `when` (taken before the renewal was
  // sent, so the lease lasts at least until when + ttl).
  void MarkRenewed(absl::Time when);
  // Another worker holds the lease. Tells every watcher.
  void MarkLost();

  bool lost() const { return lost_.load(); }
  // Whether Check has ever failed (a write was refused).
  bool was_closed() const { return closed_seen_.load(); }
  // OK while writes are allowed; ABORTED once the lease is lost or may
  // expire within `margin`.
  absl::Status Check() const;
  // When the fence closes by time unless a renewal comes first:
  // last renewal + ttl - margin (writes are refused from just after it).
  absl::Time deadline() const;
  // Check, and when the fence is closed, tells every watcher (and forgets
  // them). Returns Check's status.
  absl::Status NotifyIfClosed();

  // Registers `watcher` and returns an id for Unwatch; when the fence is
  // closed already, calls it at once instead (before returning) and returns
  // 0. A watcher is called once, on the thread that closes the fence, under
  // the fence's lock: it must be quick (e.g. post work to an executor) and
  // must not call the fence.
  int64_t Watch(Watcher watcher);
  // Forgets a watcher (unknown ids and 0 are ignored). Once Unwatch has
  // returned, the watcher is not called.
  void Unwatch(int64_t id);

 private:
  absl::Status LostStatus() const;
  // Calls and forgets every watcher with `status`.
  void NotifyAll(const absl::Status& status);

  const std::string run_uid_;
  const absl::Duration ttl_;
  const absl::Duration margin_;
  const Clock clock_;
  std::atomic<bool> lost_{false};
  mutable std::atomic<bool> closed_seen_{false};
  // absl::ToUnixNanos of the last renewal.
  std::atomic<int64_t> renewed_nanos_;
  absl::Mutex mu_;
  int64_t next_watcher_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LEASE_FENCE_H_
