#include "service/http/rate_limited_http_client.h"

#include <openssl/evp.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace labelport::http {
namespace {

std::string DigestHex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < size; ++i)
    absl::StrAppend(&out, absl::Hex(digest[i], absl::kZeroPad2));
  return out;
}

}  // namespace

boost::asio::awaitable<void> RateLimitedHttpClient::Admit(const HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "authorization")) {
      co_await limiter_->Acquire(DigestHex(value));
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
