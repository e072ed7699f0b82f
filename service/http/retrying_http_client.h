// RetryingHttpClient: the one place where HTTP requests are retried. A
// decorator over another HttpClient (usually BeastHttpClient).
//
// What is retried (see retry_policy.h):
//   * idempotent requests (HttpRequest::idempotent): UNAVAILABLE and
//     DEADLINE_EXCEEDED errors of an attempt, and HTTP 429, 500, 502, 503, 504;
//   * non-idempotent requests: only HTTP 429 and 503. Whether a failed
//     attempt reached the server cannot be known, and a 500/502/504 may come
//     after the work was done, so only responses in which the server refused
//     the work are retried. Callers make creates safe by looking up first.
//   * a request with a streamed body is retried only if it has a
//     `body_factory` (a new body source per attempt) - which HttpRequest
//     requires anyway.
//   * SendStreaming: not retried once the sink has been called; in practice
//     connection failures and empty-bodied error responses.
// Other errors and statuses are returned at once.
//
// Waiting: jittered exponential backoff, or the response's Retry-After
// (delta-seconds or HTTP-date) when present. `request.deadline` is the
// overall deadline of all attempts and waits: when the next wait would end
// after it, the last response or error is returned instead of waiting. Each
// attempt is also bounded by RetryPolicy::per_attempt_timeout.
//
// After the last attempt the last response (e.g. the final 503) or the last
// error is returned unchanged.
//
// Thread-safe if the inner client is; `inner` must outlive this object.
#ifndef LABELPORT_SERVICE_HTTP_RETRYING_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_RETRYING_HTTP_CLIENT_H_

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/http/http_client.h"
#include "service/http/retry_policy.h"

namespace labelport::http {

// Reported to RetryingHttpClient::Hooks::on_event for metrics and logs.
struct RetryEvent {
  enum class Kind {
    kRetry,   // attempt `attempt` failed and will be retried after `delay`
    kGiveUp,  // attempt `attempt` failed and its result is returned
  };
  Kind kind = Kind::kRetry;
  int attempt = 0;  // 1-based
  std::string method;
  std::string url;       // redacted: no query string
  int http_status = 0;   // 0 when the attempt ended in an error
  absl::Status error;    // OK when the attempt got a response
  absl::Duration delay;  // wait before the next attempt (kRetry)
};

class RetryingHttpClient : public HttpClient {
 public:
  // Injectable time, sleeping and randomness (tests); defaults use the real
  // clock, an asio steady_timer on the calling coroutine's executor and a
  // seeded PRNG.
  struct Hooks {
    std::function<void(const RetryEvent&)> on_event;
    std::function<absl::Time()> now;
    std::function<boost::asio::awaitable<void>(absl::Duration)> sleep;
    std::function<double()> uniform01;
  };

  struct Stats {
    int64_t requests = 0;  // Send/SendStreaming calls
    int64_t attempts = 0;  // calls to the inner client
    int64_t retries = 0;   // attempts after the first
    int64_t gave_up = 0;   // requests that ended in a retryable failure
  };

  // `policy` must be valid (RetryPolicy::Validate); an invalid one is
  // replaced by a single attempt per request.
  RetryingHttpClient(HttpClient* inner, RetryPolicy policy, Hooks hooks = {});

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) override;
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) override;

  Stats stats() const;

 private:
  using Attempt = std::function<boost::asio::awaitable<absl::StatusOr<HttpResponse>>(
      HttpRequest request, bool& may_retry)>;

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Run(HttpRequest request,
                                                           const Attempt& attempt);
  absl::Time Now() const;
  double Uniform01();
  boost::asio::awaitable<void> Sleep(absl::Duration delay);

  HttpClient* const inner_;
  RetryPolicy policy_;
  Hooks hooks_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;

  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> gave_up_{0};
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RETRYING_HTTP_CLIENT_H_
