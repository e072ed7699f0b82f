// RateLimitedHttpClient: takes a rate-limiter token for every attempt of a
// request that carries an Authorization header (a V7 API call), keyed by a
// SHA-256 digest of that header's value — one bucket per API key, and the raw
// key is never kept. Requests without Authorization (signed upload and
// download URLs, media URLs) pass straight through.
//
// A response that says the key is over its limit (`Options::is_throttled`:
// by default any 429) is reported to the limiter with its Retry-After
// (TokenBucketRateLimiter::OnThrottled), so that every request of that key
// waits it out and the key's rate slows down, then recovers. The response
// itself is returned unchanged (the retry layer above decides what to do).
//
// Placed *below* the retry layer (DarwinClient for V7), so retries are
// rate-limited too and a 5xx storm can never push the call rate over the
// limit.
#ifndef LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_

#include <functional>
#include <optional>
#include <string>

#include "service/http/http_client_decorator.h"
#include "service/http/token_bucket_rate_limiter.h"

namespace labelport::http {

class RateLimitedHttpClient : public HttpClientDecorator {
 public:
  struct Options {
    // Whether a response means "too many requests for this key". Called with
    // the full response (Send) or status and headers only (SendStreaming).
    // Null: status 429. (V7 also answers 429 for an exhausted storage quota,
    // which waiting does not cure: the server excludes it.)
    std::function<bool(const HttpResponse&)> is_throttled = nullptr;
  };

  // `inner` and `limiter` must outlive this client.
  RateLimitedHttpClient(HttpClient* inner, TokenBucketRateLimiter* limiter);
  RateLimitedHttpClient(HttpClient* inner, TokenBucketRateLimiter* limiter, Options options);

 private:
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Around(HttpRequest request,
                                                              InnerCall send) override;

  // The limiter key of `request` (nullopt: not rate-limited), after taking
  // its token.
  boost::asio::awaitable<std::optional<std::string>> Admit(const HttpRequest& request);
  // Reports a throttling `response` of a request admitted at `admitted_at`.
  void Observe(const std::optional<std::string>& key,
               TokenBucketRateLimiter::Clock::time_point admitted_at,
               const absl::StatusOr<HttpResponse>& response);

  TokenBucketRateLimiter* limiter_;
  const Options options_;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_
