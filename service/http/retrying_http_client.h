// RetryingHttpClient: an HttpClient decorator that retries at the HTTP level,
// through the one RetryLoop (retry_loop.h). It serves media URLs, whose
// answers the HTTP level can judge; V7 calls are retried by DarwinClient
// instead (it alone can tell a malformed body or look up before re-creating),
// so the V7 stack has no RetryingHttpClient.
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

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>

#include "service/http/http_client.h"
#include "service/http/retry_loop.h"
#include "service/http/retry_policy.h"

namespace labelport::http {

class RetryingHttpClient : public HttpClient {
 public:
  using Hooks = RetryLoop::Hooks;

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
  // One attempt: the response and whether it may be sent again (false once
  // a streaming sink has seen bytes).
  using Attempt = std::function<boost::asio::awaitable<absl::StatusOr<HttpResponse>>(
      HttpRequest request, bool& may_retry)>;

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Run(HttpRequest request,
                                                           const Attempt& attempt);

  HttpClient* const inner_;
  RetryLoop loop_;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RETRYING_HTTP_CLIENT_H_
