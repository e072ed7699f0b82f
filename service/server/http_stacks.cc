#include "service/server/http_stacks.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/http/egress_policy.h"
#include "service/http/retry_metrics.h"

namespace labelport::server {
namespace {

using common::Prefixed;

// The endpoint label of every media URL attempt (URLs are the caller's).
constexpr char kMediaFetchEndpoint[] = "media_fetch";

}  // namespace

absl::StatusOr<std::unique_ptr<HttpStacks>> BuildHttpStacks(const config::ServerConfig& config,
                                                            metrics::PrometheusMetrics* metrics) {
  auto stacks = std::make_unique<HttpStacks>();
  auto http_client = http::BeastHttpClient::Create(
      stacks->io.get_executor(), {.ca_file = config.darwin_ca_file,
                                  .max_connections_per_host = config.darwin_max_connections});
  if (!http_client.ok()) return Prefixed("cannot set up HTTPS: ", http_client.status());
  stacks->http_client = *std::move(http_client);
  auto limiter = http::TokenBucketRateLimiter::Create(
      {.requests_per_minute = static_cast<double>(config.darwin_rate_limit_per_minute),
       .burst = config.darwin_rate_burst,
       .metrics = metrics});
  if (!limiter.ok()) return Prefixed("bad rate limit: ", limiter.status());
  stacks->limiter = *std::move(limiter);
  // Every attempt, retries included, takes a token: the limiter sits under
  // the retry layer (DarwinClient).
  // Every attempt is counted (by endpoint template and status) right above
  // the transport.
  stacks->metered_http.emplace(stacks->http_client.get(), metrics);
  // A 429 slows the key's limiter down, except V7's storage quota (§1.6),
  // which waiting does not cure.
  stacks->limited_http.emplace(
      &*stacks->metered_http, stacks->limiter.get(),
      http::RateLimitedHttpClient::Options{.is_throttled = [](const http::HttpResponse& response) {
        return response.status == 429 &&
               !absl::StrContains(response.body, "INSUFFICIENT_REMAINING_STORAGE");
      }});
  stacks->v7_client_options.retry.max_attempts = config.darwin_retry_attempts;
  stacks->v7_client_options.retry_hooks.on_event = http::RetryMetricsRecorder(metrics);
  // Media URLs: their own stack (see the header). The egress policy is
  // checked on each resolved address right before connecting.
  auto egress = http::EgressPolicy::Create(config.media_url_allow);
  if (!egress.ok()) return Prefixed("--media_url_allow: ", egress.status());
  auto media_client = http::BeastHttpClient::Create(
      stacks->io.get_executor(),
      {.ca_file = config.darwin_ca_file,
       .endpoint_filter = [policy = *egress](absl::string_view host,
                                             const boost::asio::ip::address& address) {
         return policy.CheckAddress(host, address);
       }});
  if (!media_client.ok())
    return Prefixed("cannot set up the media HTTP client: ", media_client.status());
  stacks->media_client = *std::move(media_client);
  stacks->metered_media.emplace(stacks->media_client.get(), metrics, kMediaFetchEndpoint);
  http::RetryingHttpClient::Hooks media_retry_hooks;
  media_retry_hooks.on_event = http::RetryMetricsRecorder(metrics, kMediaFetchEndpoint);
  http::RetryPolicy media_retry;
  media_retry.max_attempts = 3;
  stacks->media_http.emplace(&*stacks->metered_media, media_retry, std::move(media_retry_hooks));
  if (!config.media_url_allow.empty())
    common::LogInfo(absl::StrCat("media URLs may also reach: ", config.media_url_allow));
  return stacks;
}

}  // namespace labelport::server
