// HttpClientDecorator: the base of an HttpClient that passes every request
// on to an inner client and does its own work around each call (metering,
// rate limiting). Send and SendStreaming differ only in how the inner client
// is called, so a decorator writes that work once, in Around.
//
// Thread-safety: as the derived class's Around; `inner` must outlive the
// decorator.
#ifndef LABELPORT_SERVICE_HTTP_HTTP_CLIENT_DECORATOR_H_
#define LABELPORT_SERVICE_HTTP_HTTP_CLIENT_DECORATOR_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "service/http/http_client.h"

namespace labelport::http {

class HttpClientDecorator : public HttpClient {
 public:
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) final;
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) final;

 protected:
  explicit HttpClientDecorator(HttpClient* inner) : inner_(inner) {}

  // Sends a request by the inner client, as Send or SendStreaming was called.
  using InnerCall =
      std::function<boost::asio::awaitable<absl::StatusOr<HttpResponse>>(HttpRequest request)>;

  // The decorator's work around one call: sends `request` (as it is or
  // changed) by `send` at most once, and returns its result or its own.
  virtual boost::asio::awaitable<absl::StatusOr<HttpResponse>> Around(HttpRequest request,
                                                                      InnerCall send) = 0;

 private:
  HttpClient* const inner_;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_HTTP_CLIENT_DECORATOR_H_
