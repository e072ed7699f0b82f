// MeteredHttpClient: reports every HTTP attempt to common::Metrics as
// RecordV7Call(EndpointTemplate(method, url), status, latency), where status
// is the HTTP status ("200", "429") or "error" when the attempt ended without
// a response. A decorator: requests and results pass through unchanged.
//
// Placed directly above the transport (below the rate limiter and the retry
// layer), so each attempt is counted once and its latency excludes limiter
// and backoff waits.
//
// Thread-safe if the inner client is; `inner` and `metrics` must outlive it.
#ifndef LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_

#include "service/common/metrics.h"
#include "service/http/http_client.h"

namespace labelport::http {

class MeteredHttpClient : public HttpClient {
 public:
  MeteredHttpClient(HttpClient* inner, common::Metrics* metrics)
      : inner_(inner), metrics_(metrics) {}

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) override;
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) override;

 private:
  void Record(const std::string& endpoint, const absl::StatusOr<HttpResponse>& result,
              absl::Time start);

  HttpClient* inner_;
  common::Metrics* metrics_;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_
