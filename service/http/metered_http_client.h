// MeteredHttpClient: reports every HTTP attempt to common::Metrics as
// RecordV7Call(endpoint, status, latency). The endpoint is
// EndpointTemplate(method, url), or the fixed label given at construction
// (e.g. "media_fetch" for the media-URL stack, whose URLs callers choose).
// The status is the HTTP status when it is a common one ("200", "429"),
// else its class ("2xx", "4xx") or "other", and "error" when the attempt
// ended without a response: both labels come from fixed sets. A decorator:
// requests and results pass through unchanged.
//
// Placed directly above the transport (below the rate limiter and the retry
// layer), so each attempt is counted once and its latency excludes limiter
// and backoff waits.
//
// Thread-safe if the inner client is; `inner` and `metrics` must outlive it.
#ifndef LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_

#include <string>
#include <utility>

#include "service/common/metrics.h"
#include "service/http/http_client_decorator.h"

namespace labelport::http {

class MeteredHttpClient : public HttpClientDecorator {
 public:
  // `fixed_endpoint`: when not empty, the endpoint label of every request.
  MeteredHttpClient(HttpClient* inner, common::Metrics* metrics, std::string fixed_endpoint = "")
      : HttpClientDecorator(inner), metrics_(metrics), fixed_endpoint_(std::move(fixed_endpoint)) {}

 private:
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Around(HttpRequest request,
                                                              InnerCall send) override;

  void Record(const std::string& endpoint, const absl::StatusOr<HttpResponse>& result,
              absl::Time start);

  std::string EndpointOf(const HttpRequest& request) const;

  common::Metrics* metrics_;
  const std::string fixed_endpoint_;
};

// The status label of an HTTP status: the number for common statuses, else
// "1xx".."5xx", else "other".
std::string HttpStatusLabel(int status);

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_METERED_HTTP_CLIENT_H_
