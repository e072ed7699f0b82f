// V7OutageWait: how an upload job waits out a V7 outage instead of failing
// its samples or the run.
//
// A V7 call that failed with UNAVAILABLE or DEADLINE_EXCEEDED after the HTTP
// retries (connection refused or dropped, timeouts, 5xx or 429 storms) means
// either that V7 is down or only that this call failed. ShouldRetry tells the
// two apart by probing V7 (DarwinClient::CheckAccess: E1, cheap, needs only
// the key):
//   * the probe answers: V7 is up and the failure stands (false), unless V7
//     was seen down while the call or the probe ran (it failed in an outage
//     that has just ended), or this is the call's first failure (the probe
//     goes through the HTTP retries, which may hide the end of an outage):
//     true, repeat it;
//   * the probe fails with UNAVAILABLE or DEADLINE_EXCEEDED too: V7 is down.
//     The caller waits, probing again after `initial_backoff`, doubling up
//     to `max_backoff` (each wait jittered down by up to a half), until a
//     probe answers (true: repeat the call) or `max_wait` has passed since
//     V7 went down (false: the failure stands);
//   * the probe fails otherwise (a revoked key: UNAUTHENTICATED): false.
// Other failures (not UNAVAILABLE or DEADLINE_EXCEEDED) are never retried.
//
// One object per upload job, shared by its concurrent steps: a probe result
// is reused for `probe_reuse`, so many waiting steps make few probes, and the
// job logs once when V7 goes down and once when it is back.
//
// Thread-safety: ShouldRetry may run concurrently in coroutines on any
// thread of a multi-threaded io_context.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_V7_OUTAGE_WAIT_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_V7_OUTAGE_WAIT_H_

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace labelport::backend::darwin {

class V7OutageWait {
 public:
  struct Options {
    absl::Duration initial_backoff = absl::Seconds(1);
    absl::Duration max_backoff = absl::Seconds(30);
    // How long after V7 went down the job gives up (zero: never waits).
    absl::Duration max_wait = absl::Hours(6);
    // How long a probe's result answers for every waiting step.
    absl::Duration probe_reuse = absl::Seconds(1);
    // Names the job in log lines, e.g. "run datasets/d/runs/k (uid)".
    std::string log_name;
  };
  // Asks V7 whether it answers (OK) or not.
  using Probe = std::function<boost::asio::awaitable<absl::Status>()>;

  V7OutageWait(Probe probe, Options options);

  // Whether to repeat a V7 call that failed with `failure`; `started` is when
  // the call (with its attempts) began, `repeats` how often it was repeated
  // already. May wait (see the class comment).
  boost::asio::awaitable<bool> ShouldRetry(absl::Status failure, absl::Time started, int repeats);

  // Whether UNAVAILABLE or DEADLINE_EXCEEDED (what an outage looks like).
  static bool IsTransient(const absl::Status& status);

  // The time V7 has been seen down so far (finished outages plus the current
  // one): deadlines of the job's own waits are extended by it.
  absl::Duration DownTime() const;

 private:
  // The probe's result, shared for `probe_reuse`; records up/down changes.
  boost::asio::awaitable<absl::Status> ProbeShared();
  // `backoff` jittered down by up to a half.
  absl::Duration Jittered(absl::Duration backoff);

  const Probe probe_;
  const Options options_;
  mutable absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time down_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The last change from down to up.
  absl::Time up_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration down_total_ ABSL_GUARDED_BY(mu_);
  bool gave_up_logged_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time probed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status probed_ ABSL_GUARDED_BY(mu_);
  std::minstd_rand random_ ABSL_GUARDED_BY(mu_){20261207};
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_V7_OUTAGE_WAIT_H_
