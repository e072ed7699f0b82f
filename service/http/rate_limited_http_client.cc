#include "service/http/rate_limited_http_client.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "service/common/sha256.h"
#include "service/http/retry_policy.h"

namespace labelport::http {

RateLimitedHttpClient::RateLimitedHttpClient(HttpClient* inner, TokenBucketRateLimiter* limiter)
    : RateLimitedHttpClient(inner, limiter, Options()) {}

RateLimitedHttpClient::RateLimitedHttpClient(HttpClient* inner, TokenBucketRateLimiter* limiter,
                                             Options options)
    : HttpClientDecorator(inner), limiter_(limiter), options_(std::move(options)) {}

boost::asio::awaitable<std::optional<std::string>> RateLimitedHttpClient::Admit(
    const HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "authorization")) {
      std::string key = common::Sha256Hex(value);
      co_await limiter_->Acquire(key);
      co_return key;
    }
  }
  co_return std::nullopt;
}

void RateLimitedHttpClient::Observe(const std::optional<std::string>& key,
                                    TokenBucketRateLimiter::Clock::time_point admitted_at,
                                    const absl::StatusOr<HttpResponse>& response) {
  if (!key.has_value() || !response.ok()) return;
  const bool throttled =
      options_.is_throttled ? options_.is_throttled(*response) : response->status == 429;
  if (!throttled) return;
  std::optional<absl::Duration> retry_after;
  if (auto header = response->Header("Retry-After")) {
    retry_after = ParseRetryAfter(*header, absl::Now());
  }
  limiter_->OnThrottled(*key, retry_after, admitted_at);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RateLimitedHttpClient::Around(
    HttpRequest request, InnerCall send) {
  const std::optional<std::string> key = co_await Admit(request);
  const auto admitted_at = limiter_->Now();
  absl::StatusOr<HttpResponse> response = co_await send(std::move(request));
  Observe(key, admitted_at, response);
  co_return response;
}

}  // namespace labelport::http
