#include "service/http/retry_metrics.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/http/endpoint_template.h"

namespace labelport::http {

std::function<void(const RetryEvent&)> RetryMetricsRecorder(common::Metrics* metrics) {
  return [metrics](const RetryEvent& event) {
    if (event.kind != RetryEvent::Kind::kRetry) return;
    const std::string reason = event.http_status != 0
                                   ? absl::StrCat(event.http_status)
                                   : absl::StatusCodeToString(event.error.code());
    metrics->RecordHttpRetry(EndpointTemplate(event.method, event.url), reason);
  };
}

}  // namespace labelport::http
