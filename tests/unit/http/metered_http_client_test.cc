#include "service/http/metered_http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/http/retry_metrics.h"
#include "service/http/retrying_http_client.h"
#include "tests/unit/common/fake_metrics.h"
#include "tests/unit/common/run_sync.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using ::labelport::testing::RunSync;

// Answers each request with the next scripted result.
class ScriptedClient : public HttpClient {
 public:
  explicit ScriptedClient(std::vector<absl::StatusOr<int>> script) : script_(std::move(script)) {}

  net::awaitable<absl::StatusOr<HttpResponse>> Send(HttpRequest, int64_t) override {
    co_return Next();
  }
  net::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest, BodyChunkSink) override {
    co_return Next();
  }

 private:
  absl::StatusOr<HttpResponse> Next() {
    absl::StatusOr<int> step = script_.at(next_++);
    if (!step.ok()) return step.status();
    HttpResponse response;
    response.status = *step;
    return response;
  }

  std::vector<absl::StatusOr<int>> script_;
  size_t next_ = 0;
};

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  request.idempotent = true;
  return request;
}

TEST(MeteredHttpClientTest, RecordsEachAttemptByTemplateAndStatus) {
  ScriptedClient inner({200, absl::UnavailableError("connection refused"), 404});
  testing::FakeMetrics metrics;
  MeteredHttpClient client(&inner, &metrics);
  auto ok = RunSync(client.Send(Get("https://v7.example/api/v2/teams/acme/items?page=2")));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  auto failed = RunSync(client.Send(Get("https://v7.example/api/datasets/12/archive")));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  auto missing = RunSync(client.SendStreaming(
      Get("https://s3.example/b/k?sig=secret"),
      [](absl::string_view) -> net::awaitable<absl::Status> { co_return absl::OkStatus(); }));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(metrics.v7_calls(),
            (std::vector<std::string>{"GET /api/v2/teams/{team}/items -> 200",
                                      "GET /api/datasets/{dataset}/archive -> error",
                                      "GET {signed-url} -> 404"}));
}

TEST(MeteredHttpClientTest, UnderTheRetryLayerEveryAttemptAndRetryIsCounted) {
  ScriptedClient inner({503, absl::UnavailableError("reset"), 200});
  testing::FakeMetrics metrics;
  MeteredHttpClient metered(&inner, &metrics);
  RetryingHttpClient::Hooks hooks;
  hooks.on_event = RetryMetricsRecorder(&metrics);
  hooks.sleep = [](absl::Duration) -> net::awaitable<void> { co_return; };
  RetryingHttpClient retrying(&metered, RetryPolicy{}, std::move(hooks));
  auto result = RunSync(retrying.Send(Get("https://v7.example/api/users/token_info")));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(metrics.v7_calls(), (std::vector<std::string>{
                                    "GET /api/users/token_info -> 503",
                                    "GET /api/users/token_info -> error",
                                    "GET /api/users/token_info -> 200",
                                }));
  EXPECT_EQ(metrics.retries(), (std::vector<std::string>{"GET /api/users/token_info 503",
                                                         "GET /api/users/token_info UNAVAILABLE"}));
}

TEST(MeteredHttpClientTest, SixHundredMediaUrlsAddOnlyFixedSeries) {
  // Whatever the URLs and whatever statuses their servers invent, the media
  // stack reports one endpoint and statuses from a fixed set.
  std::vector<absl::StatusOr<int>> script;
  for (int i = 0; i < 600; ++i) {
    script.push_back(i % 7 == 0 ? absl::StatusOr<int>(absl::UnavailableError("refused"))
                                : absl::StatusOr<int>(100 + i));
  }
  ScriptedClient inner(script);
  testing::FakeMetrics metrics;
  MeteredHttpClient media(&inner, &metrics, "media_fetch");
  for (int i = 0; i < 600; ++i) {
    const std::string url =
        absl::StrCat("http://h", i, ".example/api/v2/teams/t", i, "/p", i, ".png?sig=", i);
    (void)RunSync(media.SendStreaming(
        Get(url),
        [](absl::string_view) -> net::awaitable<absl::Status> { co_return absl::OkStatus(); }));
  }
  const std::vector<std::string> calls = metrics.v7_calls();
  EXPECT_EQ(calls.size(), 600u);
  const std::set<std::string> series(calls.begin(), calls.end());
  std::set<std::string> endpoints;
  for (const std::string& s : series) endpoints.insert(s.substr(0, s.find(" -> ")));
  EXPECT_EQ(endpoints, std::set<std::string>{"media_fetch"});
  // 33 common statuses, 5 classes, "other" and "error" at most.
  EXPECT_LE(series.size(), 40u);
  EXPECT_TRUE(series.count("media_fetch -> 404"));
  EXPECT_TRUE(series.count("media_fetch -> 4xx"));    // 499
  EXPECT_TRUE(series.count("media_fetch -> other"));  // 600 and above
  EXPECT_TRUE(series.count("media_fetch -> error"));
}

TEST(MeteredHttpClientTest, StatusLabels) {
  EXPECT_EQ(HttpStatusLabel(200), "200");
  EXPECT_EQ(HttpStatusLabel(429), "429");
  EXPECT_EQ(HttpStatusLabel(299), "2xx");
  EXPECT_EQ(HttpStatusLabel(599), "5xx");
  EXPECT_EQ(HttpStatusLabel(600), "other");
  EXPECT_EQ(HttpStatusLabel(0), "other");
}

}  // namespace
}  // namespace labelport::http
