// The server's outbound HTTP: one io_context (run by --io_threads threads,
// StartWorkers) and two stacks on it.
//
// V7: pooled keep-alive connections (--darwin_max_connections) → metered
// (every attempt, by endpoint template and status, right above the
// transport) → rate limited (one token bucket, --darwin_rate_limit_per_minute
// and --darwin_rate_burst, shared out among replicas by ReplicaRateShare;
// every attempt takes a token, a 429 slows the bucket down except V7's
// storage quota). No retry layer: V7 calls are retried by DarwinClient
// alone (v7_client_options: --darwin_retry_attempts, retry metrics).
//
// Media URLs: their own stack — the egress policy (--media_url_allow)
// checks every resolved address right before connecting, attempts are
// metered under the one endpoint label "media_fetch", three attempts, no V7
// rate-limiter tokens.
#ifndef LABELPORT_SERVICE_SERVER_HTTP_STACKS_H_
#define LABELPORT_SERVICE_SERVER_HTTP_STACKS_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/config/server_config.h"
#include "service/http/beast_http_client.h"
#include "service/http/metered_http_client.h"
#include "service/http/rate_limited_http_client.h"
#include "service/http/retrying_http_client.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "service/metrics/prometheus_metrics.h"

namespace labelport::server {

// Not movable (the server keeps it by pointer). Members are destroyed in
// reverse order: the stacks before their transports, the io_context last.
struct HttpStacks {
  boost::asio::io_context io;
  // Keeps `io` running until the server drains.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<http::BeastHttpClient> http_client;
  std::unique_ptr<http::TokenBucketRateLimiter> limiter;
  std::optional<http::MeteredHttpClient> metered_http;
  // What V7 clients (DarwinBackendProvider, V7HealthCheck) send through.
  std::optional<http::RateLimitedHttpClient> limited_http;
  backend::darwin::DarwinClient::Options v7_client_options;
  std::unique_ptr<http::BeastHttpClient> media_client;
  std::optional<http::MeteredHttpClient> metered_media;
  // What media URL fetches send through.
  std::optional<http::RetryingHttpClient> media_http;
};

// Builds both stacks; `metrics` must outlive them. Errors carry the
// server's log line ("cannot set up HTTPS: ...", "bad rate limit: ...",
// "--media_url_allow: ...", "cannot set up the media HTTP client: ...").
// Logs the extra media URL destinations when --media_url_allow is given.
absl::StatusOr<std::unique_ptr<HttpStacks>> BuildHttpStacks(const config::ServerConfig& config,
                                                            metrics::PrometheusMetrics* metrics);

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_HTTP_STACKS_H_
