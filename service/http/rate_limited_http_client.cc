#include "service/http/rate_limited_http_client.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "service/common/sha256.h"

namespace labelport::http {
boost::asio::awaitable<void> RateLimitedHttpClient::Admit(const HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "authorization")) {
      co_await limiter_->Acquire(common::Sha256Hex(value));
      co_return;
    }
  }
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RateLimitedHttpClient::Send(
    HttpRequest request, int64_t max_response_bytes) {
  co_await Admit(request);
  co_return co_await inner_->Send(std::move(request), max_response_bytes);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RateLimitedHttpClient::SendStreaming(
    HttpRequest request, BodyChunkSink sink) {
  co_await Admit(request);
  co_return co_await inner_->SendStreaming(std::move(request), std::move(sink));
}

}  // namespace labelport::http
