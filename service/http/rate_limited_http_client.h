// RateLimitedHttpClient: takes a rate-limiter token for every attempt of a
// request that carries an Authorization header (a V7 API call), keyed by a
// SHA-256 digest of that header's value — one bucket per API key, and the raw
// key is never kept. Requests without Authorization (signed upload and
// download URLs, media URLs) pass straight through.
//
// Placed *below* the retry layer (DarwinClient for V7), so retries are
// rate-limited too and a 5xx storm can never push the call rate over the
// limit.
#ifndef LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_

#include "service/http/http_client.h"
#include "service/http/token_bucket_rate_limiter.h"

namespace labelport::http {

class RateLimitedHttpClient : public HttpClient {
 public:
  // `inner` and `limiter` must outlive this client.
  RateLimitedHttpClient(HttpClient* inner, TokenBucketRateLimiter* limiter)
      : inner_(inner), limiter_(limiter) {}

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) override;
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) override;

 private:
  boost::asio::awaitable<void> Admit(const HttpRequest& request);

  HttpClient* inner_;
  TokenBucketRateLimiter* limiter_;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RATE_LIMITED_HTTP_CLIENT_H_
