// RetryLoop: the one loop that repeats outbound requests. A "step" is one
// logical request (one V7 call, one media fetch); the loop runs it as
// attempts until an attempt succeeds or fails for good, the attempts are
// spent (RetryPolicy::max_attempts), or the next wait would end after the
// step's deadline. Between attempts it waits the answer's Retry-After when
// the attempt had one, else the jittered exponential backoff of the policy.
//
// The caller judges each attempt (Attempted<T>): only it knows whether a
// request is safe to repeat and whether an answer is acceptable (a 200 whose
// JSON does not parse, a download that is not a zip). Users: DarwinClient
// (every V7 call, see darwin_client.h) and RetryingHttpClient (media URLs).
//
// Thread-safe: Run may be called concurrently (randomness is guarded, the
// counters are atomic).
#ifndef LABELPORT_SERVICE_HTTP_RETRY_LOOP_H_
#define LABELPORT_SERVICE_HTTP_RETRY_LOOP_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/http/retry_policy.h"

namespace labelport::http {

// Reported to RetryLoop::Hooks::on_event for metrics and logs.
struct RetryEvent {
  enum class Kind {
    kRetry,   // attempt `attempt` failed and will be retried after `delay`
    kGiveUp,  // attempt `attempt` failed and its result is returned
  };
  Kind kind = Kind::kRetry;
  int attempt = 0;  // 1-based
  std::string method;
  std::string url;       // redacted: no query string
  int http_status = 0;   // 0 when the attempt got no (acceptable) answer
  absl::Status error;    // OK when the attempt got a response
  absl::Duration delay;  // wait before the next attempt (kRetry)
};

// One attempt of a step, as judged by the caller.
template <typename T>
struct Attempted {
  // What the step returns if this attempt is its last.
  absl::StatusOr<T> result;
  // Another attempt may cure this one's failure.
  bool retryable = false;
  // False when this attempt cannot be repeated although its failure is
  // retryable (a streamed response body already handed on): the step gives up.
  bool may_repeat = true;
  // The server's Retry-After, when the answer carried one.
  std::optional<absl::Duration> retry_after;
  // The HTTP status of the answer (for RetryEvent; 0 when there was none).
  int http_status = 0;
};

class RetryLoop {
 public:
  // Injectable time, sleeping and randomness (tests); defaults use the real
  // clock, an asio steady_timer on the calling coroutine's executor and a
  // seeded PRNG. `on_event` sees every retry and give-up.
  struct Hooks {
    std::function<void(const RetryEvent&)> on_event;
    std::function<absl::Time()> now;
    std::function<boost::asio::awaitable<void>(absl::Duration)> sleep;
    std::function<double()> uniform01;
  };

  struct Stats {
    int64_t steps = 0;     // calls to Run
    int64_t attempts = 0;  // attempts made
    int64_t retries = 0;   // attempts after the first
    int64_t gave_up = 0;   // steps that ended in a retryable failure
  };

  // `policy` must be valid (RetryPolicy::Validate); an invalid one is
  // replaced by a single attempt per step (and logged).
  explicit RetryLoop(RetryPolicy policy, Hooks hooks = {});

  // Runs `attempt(n, attempt_deadline)` for n = 1, 2, ... (see the file
  // comment) and returns the result of the last attempt. `attempt_deadline`
  // is `deadline`, shortened to now + RetryPolicy::per_attempt_timeout.
  // `method` and `redacted_url` only name the step in RetryEvents.
  // `attempt` is a callable returning awaitable<Attempted<T>>; it is kept
  // alive by this coroutine.
  template <typename T, typename AttemptFn>
  boost::asio::awaitable<absl::StatusOr<T>> Run(absl::Time deadline, std::string method,
                                                std::string redacted_url, AttemptFn attempt) {
    ++steps_;
    for (int n = 1;; ++n) {
      absl::Time attempt_deadline = deadline;
      if (policy_.per_attempt_timeout != absl::InfiniteDuration()) {
        attempt_deadline = std::min(deadline, Now() + policy_.per_attempt_timeout);
      }
      ++attempts_;
      if (n > 1) ++retries_;
      Attempted<T> outcome = co_await attempt(n, attempt_deadline);
      if (!outcome.retryable) co_return std::move(outcome.result);
      const absl::Duration delay = outcome.retry_after.has_value()
                                       ? *outcome.retry_after
                                       : BackoffDelay(policy_, n, Uniform01());
      const bool again = outcome.may_repeat && MayRetry(policy_, n, Now(), delay, deadline);
      Report(again, n, method, redacted_url, outcome.http_status,
             outcome.result.ok() ? absl::OkStatus() : outcome.result.status(), delay);
      if (!again) co_return std::move(outcome.result);
      co_await Sleep(delay);
    }
  }

  const RetryPolicy& policy() const { return policy_; }
  absl::Time Now() const;
  Stats stats() const;

 private:
  double Uniform01();
  boost::asio::awaitable<void> Sleep(absl::Duration delay);
  // Counts and reports a retry (`again`) or a give-up.
  void Report(bool again, int attempt, const std::string& method, const std::string& url,
              int http_status, absl::Status error, absl::Duration delay);

  RetryPolicy policy_;
  Hooks hooks_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;

  std::atomic<int64_t> steps_{0};
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> gave_up_{0};
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RETRY_LOOP_H_
