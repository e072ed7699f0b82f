// RetryPolicy: when and how long the retry loop (retry_loop.h: RetryLoop,
// used by DarwinClient for V7 and by RetryingHttpClient for media URLs)
// waits before sending a request again. The decisions are pure functions so
// they can be tested without a network or a clock.
#ifndef LABELPORT_SERVICE_HTTP_RETRY_POLICY_H_
#define LABELPORT_SERVICE_HTTP_RETRY_POLICY_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/http/http_client.h"

namespace labelport::http {

struct RetryPolicy {
  // Attempts in total (1 = no retries); >= 1.
  int max_attempts = 5;
  // Backoff before retry n (n = 1, 2, ...) is
  //   min(max_backoff, initial_backoff * multiplier^(n-1)) * (1 - jitter * u),
  // u uniform in [0, 1), unless the response carries Retry-After.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  double multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(60);
  // Fraction of the backoff that is randomised, in [0, 1].
  double jitter = 0.5;
  // Upper bound for each attempt, on top of the request's overall deadline
  // (InfiniteDuration: attempts are bounded by the overall deadline only).
  absl::Duration per_attempt_timeout = absl::InfiniteDuration();
  // Optional: responses with a retryable status that must nevertheless not be
  // retried (e.g. V7's 429 INSUFFICIENT_REMAINING_STORAGE). Called with the
  // full response (Send) or status and headers only (SendStreaming).
  std::function<bool(const HttpResponse&)> is_permanent;

  // INVALID_ARGUMENT naming the bad field.
  absl::Status Validate() const;
};

// HTTP statuses worth another attempt: 429, 500, 502, 503, 504 for
// idempotent requests; only 429 and 503 (the server refused the work) for
// non-idempotent ones, since a 500/502/504 may come after the work was done.
bool IsRetryableHttpStatus(int status, bool idempotent);

// Transport errors worth another attempt: UNAVAILABLE and DEADLINE_EXCEEDED,
// for idempotent requests only (the request may have reached the server).
bool IsRetryableError(const absl::Status& status, bool idempotent);

// The backoff before retry number `retry` (1-based), `uniform01` in [0, 1).
absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, double uniform01);

// Whether a step whose attempt number `attempt` (1-based) failed retryably
// gets another attempt after waiting `delay` from `now`: attempts remain
// (attempt < max_attempts) and the wait ends before the step's `deadline`.
bool MayRetry(const RetryPolicy& policy, int attempt, absl::Time now, absl::Duration delay,
              absl::Time deadline);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the RFC 850 and asctime forms),
// relative to `now`. A date in the past yields zero. nullopt if malformed.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RETRY_POLICY_H_
