#include "service/metrics/prometheus_metrics.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http/beast_http_client.h"

namespace labelport::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<PrometheusMetrics> Make(std::string listen = "") {
  auto metrics = PrometheusMetrics::Create({.listen = std::move(listen)});
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return *std::move(metrics);
}

TEST(PrometheusMetricsTest, EveryMeasurementAppearsWithItsLabels) {
  auto metrics = Make();
  metrics->RecordRpc("/labelport.v1.AnnotationService/GetRun", "NOT_FOUND", absl::Milliseconds(3));
  metrics->RecordRpc("/labelport.v1.AnnotationService/GetRun", "NOT_FOUND", absl::Milliseconds(4));
  metrics->RecordV7Call("GET /api/v2/teams/{team}/items", "200", absl::Milliseconds(20));
  metrics->RecordHttpRetry("GET /api/v2/teams/{team}/items", "503");
  metrics->RecordRateLimiterWait(absl::Milliseconds(250));
  metrics->SetRateLimitPerMinute(500);
  metrics->AddSamplesUploaded("completed", 7);
  metrics->AddLabelsLoaded("added", 3);
  metrics->AddLabelsLoaded("added", 2);
  metrics->SetDependencyUp("v7", false);
  const std::string text = metrics->TextExposition();
  EXPECT_THAT(text, HasSubstr("labelport_rpc_handled_total{code=\"NOT_FOUND\",method=\"/"
                              "labelport.v1.AnnotationService/GetRun\"} 2"));
  EXPECT_THAT(text, HasSubstr("labelport_rpc_duration_seconds_count{code=\"NOT_FOUND\","
                              "method=\"/labelport.v1.AnnotationService/GetRun\"} 2"));
  EXPECT_THAT(text, HasSubstr("labelport_v7_requests_total{endpoint=\"GET "
                              "/api/v2/teams/{team}/items\",status=\"200\"} 1"));
  EXPECT_THAT(text, HasSubstr("labelport_v7_request_duration_seconds_count{endpoint=\"GET "
                              "/api/v2/teams/{team}/items\"} 1"));
  EXPECT_THAT(text, HasSubstr("labelport_v7_retries_total{endpoint=\"GET "
                              "/api/v2/teams/{team}/items\",reason=\"503\"} 1"));
  EXPECT_THAT(text, HasSubstr("labelport_rate_limiter_wait_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("labelport_rate_limiter_wait_seconds_sum 0.25"));
  EXPECT_THAT(text, HasSubstr("labelport_rate_limit_per_minute 500"));
  EXPECT_THAT(text, HasSubstr("labelport_samples_uploaded_total{outcome=\"completed\"} 7"));
  EXPECT_THAT(text, HasSubstr("labelport_labels_loaded_total{change=\"added\"} 5"));
  EXPECT_THAT(text, HasSubstr("labelport_dependency_up{dependency=\"v7\"} 0"));
}

TEST(PrometheusMetricsTest, DependencyNamesComeFromAFixedSet) {
  auto metrics = Make();
  metrics->SetDependencyUp("store", true);
  metrics->SetDependencyUp("https://v7.example/?key=secret", false);
  const std::string text = metrics->TextExposition();
  EXPECT_THAT(text, HasSubstr("labelport_dependency_up{dependency=\"store\"} 1"));
  EXPECT_THAT(text, HasSubstr("labelport_dependency_up{dependency=\"other\"} 0"));
  EXPECT_THAT(text, Not(HasSubstr("secret")));
}

TEST(PrometheusMetricsTest, RunsByStateAreReadFromTheSourceAtEachScrape) {
  auto metrics = Make();
  EXPECT_THAT(metrics->TextExposition(), Not(HasSubstr("labelport_runs{")));
  int64_t pending = 2;
  bool fail = false;
  metrics->SetRunCountSource([&]() -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
    if (fail) return absl::UnavailableError("database is locked");
    return std::vector<std::pair<std::string, int64_t>>{{"PENDING", pending}, {"ANNOTATING", 1}};
  });
  EXPECT_THAT(metrics->TextExposition(), HasSubstr("labelport_runs{state=\"PENDING\"} 2"));
  pending = 5;
  const std::string text = metrics->TextExposition();
  EXPECT_THAT(text, HasSubstr("labelport_runs{state=\"PENDING\"} 5"));
  EXPECT_THAT(text, HasSubstr("labelport_runs{state=\"ANNOTATING\"} 1"));
  fail = true;
  const std::string failed = metrics->TextExposition();
  EXPECT_THAT(failed, Not(HasSubstr("labelport_runs{")));
  EXPECT_THAT(failed, HasSubstr("labelport_runs_count_errors_total 1"));
}

TEST(PrometheusMetricsTest, ServesTheTextFormatOverHttp) {
  auto metrics = Make("127.0.0.1:0");
  ASSERT_GT(metrics->port(), 0);
  metrics->AddSamplesUploaded("failed", 4);
  boost::asio::io_context io;
  auto client = http::BeastHttpClient::Create(io.get_executor(), {});
  ASSERT_TRUE(client.ok()) << client.status();
  http::HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", metrics->port(), "/metrics");
  request.deadline = absl::Now() + absl::Seconds(10);
  auto future = boost::asio::co_spawn(io, (*client)->Send(request), boost::asio::use_future);
  io.run();
  auto response = future.get();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("labelport_samples_uploaded_total{outcome=\"failed\"} 4"));
}

TEST(PrometheusMetricsTest, BadListenAddressesAreRefusedWithTheAddress) {
  auto no_port = PrometheusMetrics::Create({.listen = "127.0.0.1"});
  EXPECT_EQ(no_port.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_port.status().message()), HasSubstr("'127.0.0.1'"));
  auto taken = Make("127.0.0.1:0");
  const std::string busy = absl::StrCat("127.0.0.1:", taken->port());
  auto again = PrometheusMetrics::Create({.listen = busy});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr(busy));
}

}  // namespace
}  // namespace labelport::metrics
