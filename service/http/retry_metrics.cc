#include "service/http/retry_metrics.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/http/endpoint_template.h"

namespace labelport::http {

std::function<void(const RetryEvent&)> RetryMetricsRecorder(common::Metrics* metrics,
                                                            std::string fixed_endpoint) {
  return [metrics, fixed_endpoint = std::move(fixed_endpoint)](const RetryEvent& event) {
    if (event.kind != RetryEvent::Kind::kRetry) return;
    const std::string reason = event.http_status != 0
                                   ? absl::StrCat(event.http_status)
                                   : absl::StatusCodeToString(event.error.code());
    metrics->RecordHttpRetry(
        fixed_endpoint.empty() ? EndpointTemplate(event.method, event.url) : fixed_endpoint,
        reason);
  };
}

}  // namespace labelport::http
