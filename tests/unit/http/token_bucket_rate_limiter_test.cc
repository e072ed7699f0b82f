#include "service/http/token_bucket_rate_limiter.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/common/fake_metrics.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

std::unique_ptr<TokenBucketRateLimiter> MakeLimiter(double rpm, int burst) {
  auto limiter = TokenBucketRateLimiter::Create({.requests_per_minute = rpm, .burst = burst});
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  return *std::move(limiter);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST(TokenBucketRateLimiterTest, RejectsBadOptions) {
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.requests_per_minute = 0, .burst = 1}).ok());
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.requests_per_minute = 10, .burst = 0}).ok());
}

TEST(TokenBucketRateLimiterTest, BurstThenRate) {
  auto limiter = MakeLimiter(600, 1);  // one token every 100 ms
  net::io_context io;
  const auto start = Clock::now();
  Clock::duration elapsed{};
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 5; ++i) co_await limiter->Acquire("key");
        elapsed = Clock::now() - start;
      },
      net::detached);
  io.run();
  EXPECT_GE(Seconds(elapsed), 0.39);
  EXPECT_LT(Seconds(elapsed), 1.5);
  const auto stats = limiter->stats();
  EXPECT_EQ(stats.acquired, 5);
  EXPECT_EQ(stats.waits, 4);
  EXPECT_GE(stats.total_wait, absl::Milliseconds(350));  // timer overshoot shortens later waits
}

TEST(TokenBucketRateLimiterTest, BurstIsImmediate) {
  auto limiter = MakeLimiter(60, 3);
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  EXPECT_EQ(limiter->stats().acquired, 3);
}

TEST(TokenBucketRateLimiterTest, KeysAreIsolated) {
  auto limiter = MakeLimiter(60, 1);
  EXPECT_TRUE(limiter->TryAcquire("a"));
  EXPECT_FALSE(limiter->TryAcquire("a"));
  EXPECT_TRUE(limiter->TryAcquire("b"));
  EXPECT_FALSE(limiter->TryAcquire("b"));
}

TEST(TokenBucketRateLimiterTest, RefillsOverTime) {
  auto limiter = MakeLimiter(1200, 1);  // 50 ms per token
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  std::this_thread::sleep_for(std::chrono::milliseconds(70));
  EXPECT_TRUE(limiter->TryAcquire("k"));
}

TEST(TokenBucketRateLimiterTest, WaitersAreServedInOrder) {
  auto limiter = MakeLimiter(1200, 1);  // 50 ms per token
  net::io_context io;
  std::vector<int> order;
  for (int i = 0; i < 6; ++i) {
    net::co_spawn(
        io,
        [&, i]() -> net::awaitable<void> {
          co_await limiter->Acquire("k");
          order.push_back(i);
        },
        net::detached);
  }
  // Queued waiters hold the next slots: a TryAcquire cannot jump the queue.
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        EXPECT_FALSE(limiter->TryAcquire("k"));
        co_return;
      },
      net::detached);
  io.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(TokenBucketRateLimiterTest, ThreadSafe) {
  auto limiter = MakeLimiter(60000, 50);  // 1 ms per token
  net::io_context io;
  int done = 0;
  std::mutex mu;
  for (int i = 0; i < 100; ++i) {
    net::co_spawn(
        io,
        [&, i]() -> net::awaitable<void> {
          co_await limiter->Acquire(i % 2 ? "a" : "b");
          std::lock_guard<std::mutex> lock(mu);
          ++done;
        },
        net::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, 100);
  EXPECT_EQ(limiter->stats().acquired, 100);
}

// Starts `count` Acquire(key) calls and lets each reserve its slot (without
// waiting for the slots); the waits go to the limiter's metrics.
void ReserveWithoutWaiting(TokenBucketRateLimiter& limiter, net::io_context& io,
                           const std::string& key, int count) {
  for (int i = 0; i < count; ++i) net::co_spawn(io, limiter.Acquire(key), net::detached);
  io.poll();
}

TEST(TokenBucketRateLimiterTest, ReportsEachWaitToMetrics) {
  testing::FakeMetrics metrics;
  auto limiter = TokenBucketRateLimiter::Create(
      {.requests_per_minute = 600, .burst = 1, .metrics = &metrics});  // 100 ms apart
  ASSERT_TRUE(limiter.ok());
  net::io_context io;
  ReserveWithoutWaiting(**limiter, io, "a", 4);
  const std::vector<absl::Duration> waits = metrics.waits();
  ASSERT_EQ(waits.size(), 3u);  // the first token is free
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(absl::ToDoubleMilliseconds(waits[i]), 100.0 * (i + 1), 20) << i;
  }
  EXPECT_EQ((*limiter)->stats().waits, 3);
}

TEST(TokenBucketRateLimiterTest, SetRequestsPerMinuteSpacesLaterTokensAtTheNewRate) {
  testing::FakeMetrics metrics;
  auto limiter =
      TokenBucketRateLimiter::Create({.requests_per_minute = 600, .burst = 1, .metrics = &metrics});
  ASSERT_TRUE(limiter.ok());
  ASSERT_TRUE((*limiter)->SetRequestsPerMinute(300).ok());  // 200 ms apart
  EXPECT_EQ((*limiter)->requests_per_minute(), 300);
  net::io_context io;
  ReserveWithoutWaiting(**limiter, io, "b", 3);
  const std::vector<absl::Duration> waits = metrics.waits();
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(waits[0]), 200, 20);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(waits[1]), 400, 20);
}

TEST(TokenBucketRateLimiterTest, SetRequestsPerMinuteRejectsNonPositiveRates) {
  auto limiter = MakeLimiter(600, 1);
  EXPECT_EQ(limiter->SetRequestsPerMinute(0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter->SetRequestsPerMinute(-5).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter->requests_per_minute(), 600);
}

TEST(TokenBucketRateLimiterTest, SetRateChangesTheBurst) {
  auto limiter = MakeLimiter(60, 5);  // one token a second after a burst of 5
  ASSERT_TRUE(limiter->SetRate(60, 2).ok());
  EXPECT_EQ(limiter->burst(), 2);
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_FALSE(limiter->TryAcquire("k"));  // the old burst of 5 would still allow this
  EXPECT_EQ(limiter->SetRate(60, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(limiter->burst(), 2);
}

}  // namespace
}  // namespace labelport::http
