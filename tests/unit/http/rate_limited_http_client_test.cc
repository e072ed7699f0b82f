#include "service/http/rate_limited_http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/common/sha256.h"
#include "tests/unit/common/run_sync.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using ::labelport::testing::RunSync;

// Answers 200 at once and counts the requests it saw.
class CountingClient : public HttpClient {
 public:
  net::awaitable<absl::StatusOr<HttpResponse>> Send(HttpRequest, int64_t) override {
    ++sent;
    HttpResponse r;
    r.status = 200;
    co_return r;
  }
  net::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest, BodyChunkSink) override {
    ++sent;
    HttpResponse r;
    r.status = 200;
    co_return r;
  }
  int sent = 0;
};

HttpRequest Request(bool with_auth, const std::string& key = "ApiKey k1") {
  HttpRequest r;
  r.url = "https://v7.example/api/x";
  if (with_auth) r.headers.emplace_back("Authorization", key);
  return r;
}

std::unique_ptr<TokenBucketRateLimiter> Limiter(double per_minute, int burst) {
  auto limiter =
      TokenBucketRateLimiter::Create({.requests_per_minute = per_minute, .burst = burst});
  EXPECT_TRUE(limiter.ok());
  return *std::move(limiter);
}

// Sends `count` authorized requests through `client`, one after another.
void SendAuthorized(HttpClient& client, int count) {
  RunSync([&]() -> net::awaitable<void> {
    for (int i = 0; i < count; ++i) (void)co_await client.Send(Request(true));
  });
}

TEST(RateLimitedHttpClientTest, EveryAuthorizedAttemptTakesAToken) {
  auto limiter = Limiter(600, 2);  // one token per 100 ms after a burst of 2
  CountingClient inner;
  RateLimitedHttpClient client(&inner, limiter.get());
  const auto start = std::chrono::steady_clock::now();
  SendAuthorized(client, 5);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(inner.sent, 5);
  EXPECT_EQ(limiter->stats().acquired, 5);
  // 5 calls with a burst of 2 need 3 refills of 100 ms.
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
}

TEST(RateLimitedHttpClientTest, UnauthorizedRequestsAreNotLimited) {
  auto limiter = Limiter(1, 1);
  CountingClient inner;
  RateLimitedHttpClient client(&inner, limiter.get());
  RunSync([&]() -> net::awaitable<void> {
    for (int i = 0; i < 10; ++i) (void)co_await client.Send(Request(false));
    (void)co_await client.SendStreaming(Request(false), nullptr);
  });
  EXPECT_EQ(inner.sent, 11);
  EXPECT_EQ(limiter->stats().acquired, 0);
}

TEST(RateLimitedHttpClientTest, KeysHaveTheirOwnBuckets) {
  auto limiter = Limiter(1, 1);  // one token per key, then a minute's wait
  CountingClient inner;
  RateLimitedHttpClient client(&inner, limiter.get());
  net::io_context io;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        (void)co_await client.Send(Request(true, "ApiKey a"));
        (void)co_await client.Send(Request(true, "ApiKey b"));
      },
      net::use_future);
  io.run_for(std::chrono::seconds(5));
  ASSERT_EQ(done.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(inner.sent, 2);
}

// Answers each request with the next of `statuses` (then 200), with
// `retry_after` on 429s.
class ScriptedClient : public HttpClient {
 public:
  net::awaitable<absl::StatusOr<HttpResponse>> Send(HttpRequest, int64_t) override {
    co_return Next();
  }
  net::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest, BodyChunkSink) override {
    co_return Next();
  }
  std::vector<int> statuses;
  std::string retry_after;
  std::string body;

 private:
  HttpResponse Next() {
    HttpResponse r;
    r.status = 200;
    if (next_ < statuses.size()) r.status = statuses[next_++];
    if (r.status == 429 && !retry_after.empty()) r.headers.emplace_back("Retry-After", retry_after);
    r.body = body;
    return r;
  }
  size_t next_ = 0;
};

TEST(RateLimitedHttpClientTest, A429SlowsTheKeyDownAndItsRetryAfterHoldsTheNextRequest) {
  auto limiter = Limiter(60000, 100);
  ScriptedClient inner;
  inner.statuses = {429};
  inner.retry_after = "1";
  RateLimitedHttpClient client(&inner, limiter.get());
  std::chrono::steady_clock::duration second_waited{};
  RunSync([&]() -> net::awaitable<void> {
    auto first = co_await client.Send(Request(true));
    EXPECT_EQ(first->status, 429);  // returned as it came
    const auto start = std::chrono::steady_clock::now();
    auto second = co_await client.SendStreaming(Request(true), nullptr);
    second_waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(second->status, 200);
  });
  EXPECT_GE(second_waited, std::chrono::milliseconds(900));
  EXPECT_EQ(limiter->stats().throttles, 1);
  EXPECT_LT(limiter->requests_per_minute(common::Sha256Hex("ApiKey k1")), 60000);
  EXPECT_EQ(limiter->requests_per_minute(common::Sha256Hex("ApiKey k2")), 60000);
}

TEST(RateLimitedHttpClientTest, ResponsesThatAreNotThrottlesLeaveTheRateAlone) {
  auto limiter = Limiter(60000, 100);
  ScriptedClient inner;
  inner.statuses = {503, 429};
  inner.body = R"({"errors": {"code": "INSUFFICIENT_REMAINING_STORAGE"}})";
  RateLimitedHttpClient client(&inner, limiter.get(), {.is_throttled = [](const HttpResponse& r) {
    return r.status == 429 && r.body.find("INSUFFICIENT_REMAINING_STORAGE") == std::string::npos;
  }});
  SendAuthorized(client, 3);
  EXPECT_EQ(limiter->stats().throttles, 0);
  EXPECT_EQ(limiter->requests_per_minute(common::Sha256Hex("ApiKey k1")), 60000);
}

}  // namespace
}  // namespace labelport::http
