#include "service/http/rate_limited_http_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;

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

TEST(RateLimitedHttpClientTest, EveryAuthorizedAttemptTakesAToken) {
  auto limiter = Limiter(600, 2);  // one token per 100 ms after a burst of 2
  CountingClient inner;
  RateLimitedHttpClient client(&inner, limiter.get());
  net::io_context io;
  const auto start = std::chrono::steady_clock::now();
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 5; ++i) (void)co_await client.Send(Request(true));
      },
      net::use_future);
  io.run();
  done.get();
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
  net::io_context io;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 10; ++i) (void)co_await client.Send(Request(false));
        (void)co_await client.SendStreaming(Request(false), nullptr);
      },
      net::use_future);
  io.run();
  done.get();
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

}  // namespace
}  // namespace labelport::http
