#include "service/http/metered_http_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/http/endpoint_template.h"

namespace labelport::http {

std::string HttpStatusLabel(int status) {
  static constexpr int kCommon[] = {100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304,
                                    307, 308, 400, 401, 403, 404, 405, 408, 409, 410, 411,
                                    412, 413, 415, 416, 422, 429, 500, 501, 502, 503, 504};
  for (int common : kCommon) {
    if (status == common) return absl::StrCat(status);
  }
  if (status >= 100 && status <= 599) return absl::StrCat(status / 100, "xx");
  return "other";
}

std::string MeteredHttpClient::EndpointOf(const HttpRequest& request) const {
  if (!fixed_endpoint_.empty()) return fixed_endpoint_;
  return EndpointTemplate(request.method, request.url);
}

void MeteredHttpClient::Record(const std::string& endpoint,
                               const absl::StatusOr<HttpResponse>& result, absl::Time start) {
  const std::string status = result.ok() ? HttpStatusLabel(result->status) : "error";
  metrics_->RecordV7Call(endpoint, status, absl::Now() - start);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> MeteredHttpClient::Around(HttpRequest request,
                                                                               InnerCall send) {
  const std::string endpoint = EndpointOf(request);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> result = co_await send(std::move(request));
  Record(endpoint, result, start);
  co_return result;
}

}  // namespace labelport::http
