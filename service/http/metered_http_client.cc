#include "service/http/metered_http_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/http/endpoint_template.h"

namespace labelport::http {

void MeteredHttpClient::Record(const std::string& endpoint,
                               const absl::StatusOr<HttpResponse>& result, absl::Time start) {
  const std::string status = result.ok() ? absl::StrCat(result->status) : "error";
  metrics_->RecordV7Call(endpoint, status, absl::Now() - start);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> MeteredHttpClient::Send(
    HttpRequest request, int64_t max_response_bytes) {
  const std::string endpoint = EndpointTemplate(request.method, request.url);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> result =
      co_await inner_->Send(std::move(request), max_response_bytes);
  Record(endpoint, result, start);
  co_return result;
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> MeteredHttpClient::SendStreaming(
    HttpRequest request, BodyChunkSink sink) {
  const std::string endpoint = EndpointTemplate(request.method, request.url);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> result =
      co_await inner_->SendStreaming(std::move(request), std::move(sink));
  Record(endpoint, result, start);
  co_return result;
}

}  // namespace labelport::http
