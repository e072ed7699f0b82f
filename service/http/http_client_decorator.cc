#include "service/http/http_client_decorator.h"

#include <utility>

namespace labelport::http {

boost::asio::awaitable<absl::StatusOr<HttpResponse>> HttpClientDecorator::Send(
    HttpRequest request, int64_t max_response_bytes) {
  co_return co_await Around(std::move(request), [this, max_response_bytes](HttpRequest r) {
    return inner_->Send(std::move(r), max_response_bytes);
  });
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> HttpClientDecorator::SendStreaming(
    HttpRequest request, BodyChunkSink sink) {
  // `sink` lives in this coroutine's frame until Around returns.
  co_return co_await Around(std::move(request), [this, &sink](HttpRequest r) {
    return inner_->SendStreaming(std::move(r), std::move(sink));
  });
}

}  // namespace labelport::http
