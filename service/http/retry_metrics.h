// RetryMetricsRecorder: a RetryingHttpClient::Hooks::on_event callback that
// counts each retry in common::Metrics::RecordHttpRetry, by endpoint template
// and reason (the HTTP status, or the error's code name); with a non-empty
// `fixed_endpoint` that label replaces the template (see MeteredHttpClient). Give-ups are not
// retries and are not counted here (the final attempt is already counted by
// MeteredHttpClient). `metrics` must outlive the callback.
#ifndef LABELPORT_SERVICE_HTTP_RETRY_METRICS_H_
#define LABELPORT_SERVICE_HTTP_RETRY_METRICS_H_

#include <functional>
#include <string>

#include "service/common/metrics.h"
#include "service/http/retrying_http_client.h"

namespace labelport::http {

std::function<void(const RetryEvent&)> RetryMetricsRecorder(common::Metrics* metrics,
                                                            std::string fixed_endpoint = "");

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_RETRY_METRICS_H_
