#include "service/http/token_bucket_rate_limiter.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
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
  // The waits are planned to the next token: a timer that fires late shortens
  // the next wait (by a lot on a loaded machine or under TSan), so only the
  // bounds hold: some wait, never more than the time that passed.
  EXPECT_GT(stats.total_wait, absl::ZeroDuration());
  EXPECT_LE(stats.total_wait, absl::FromChrono(elapsed));
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

// A clock the test moves by hand.
class FakeClock {
 public:
  Clock::time_point Now() const { return now_; }
  void Advance(std::chrono::milliseconds d) { now_ += d; }
  std::function<Clock::time_point()> Fn() {
    return [this] { return now_; };
  }

 private:
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
};

// Tokens TryAcquire hands out for `key` while the fake clock moves from now
// to now + `span` in steps of `step`.
int TokensOver(TokenBucketRateLimiter& limiter, FakeClock& clock, const std::string& key,
               std::chrono::milliseconds span, std::chrono::milliseconds step) {
  int tokens = 0;
  for (auto t = std::chrono::milliseconds(0); t < span; t += step) {
    while (limiter.TryAcquire(key)) ++tokens;
    clock.Advance(step);
  }
  return tokens;
}

std::unique_ptr<TokenBucketRateLimiter> FakeClockLimiter(FakeClock& clock, double rpm, int burst) {
  auto limiter = TokenBucketRateLimiter::Create(
      {.requests_per_minute = rpm, .burst = burst, .now = clock.Fn()});
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  return *std::move(limiter);
}

TEST(TokenBucketRateLimiterTest, RefillsOverTime) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 1200, 1);  // 50 ms per token
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(48));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(4));
  EXPECT_TRUE(limiter->TryAcquire("k"));
  EXPECT_FALSE(limiter->TryAcquire("k"));
}

TEST(TokenBucketRateLimiterTest, AFullBurstThenTheRate) {
  FakeClock clock;
  // V7's limit with a minute's worth of burst: 1,000 at once, then one per 60 ms.
  auto limiter = FakeClockLimiter(clock, 1000, 1000);
  int first = 0;
  while (limiter->TryAcquire("k")) ++first;
  EXPECT_EQ(first, 1000);
  // The next minute brings the rate's 1,000 more, not another burst on top.
  EXPECT_EQ(TokensOver(*limiter, clock, "k", std::chrono::milliseconds(60010),
                       std::chrono::milliseconds(10)),
            1000);
}

TEST(TokenBucketRateLimiterTest, RejectsBadThrottleOptions) {
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.throttle_decrease = 1}).ok());
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.throttle_decrease = 0}).ok());
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.min_rate_fraction = 0}).ok());
  EXPECT_FALSE(TokenBucketRateLimiter::Create({.throttle_recovery = absl::ZeroDuration()}).ok());
}

TEST(TokenBucketRateLimiterTest, A429EmptiesTheBucketAndHalvesTheRate) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 600, 10);  // 10 a second, burst 10
  ASSERT_TRUE(limiter->TryAcquire("k"));
  const auto admitted = clock.Now();
  limiter->OnThrottled("k", std::nullopt, admitted);
  EXPECT_EQ(limiter->stats().throttles, 1);
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 300);
  EXPECT_EQ(limiter->requests_per_minute(), 600);  // the configured rate is unchanged
  // The 9 tokens left are gone: the next comes after one (slower) interval.
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(150));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(60));
  EXPECT_TRUE(limiter->TryAcquire("k"));  // 200 ms, not 100
  EXPECT_FALSE(limiter->TryAcquire("k"));
  // Another key is not affected.
  int other = 0;
  while (limiter->TryAcquire("other")) ++other;
  EXPECT_EQ(other, 10);
}

TEST(TokenBucketRateLimiterTest, RetryAfterHoldsEveryRequestOfTheKey) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 6000, 100);
  ASSERT_TRUE(limiter->TryAcquire("k"));
  limiter->OnThrottled("k", absl::Seconds(2), clock.Now());
  clock.Advance(std::chrono::milliseconds(1990));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  // From then on the bucket refills from empty, at half the rate (50 a second).
  clock.Advance(std::chrono::milliseconds(15));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(10));
  EXPECT_FALSE(limiter->TryAcquire("k"));
  clock.Advance(std::chrono::milliseconds(10));
  EXPECT_TRUE(limiter->TryAcquire("k"));   // 20 ms after the Retry-After
  EXPECT_FALSE(limiter->TryAcquire("k"));  // and no burst
}

TEST(TokenBucketRateLimiterTest, RetryAfterIsCapped) {
  FakeClock clock;
  auto limiter = TokenBucketRateLimiter::Create({.requests_per_minute = 6000,
                                                 .burst = 1,
                                                 .max_retry_after = absl::Seconds(3),
                                                 .now = clock.Fn()});
  ASSERT_TRUE(limiter.ok());
  (*limiter)->OnThrottled("k", absl::Hours(5), clock.Now());
  clock.Advance(std::chrono::milliseconds(3030));
  EXPECT_TRUE((*limiter)->TryAcquire("k"));
}

TEST(TokenBucketRateLimiterTest, ThrottlesOfOneEpisodeSlowDownOnce) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 1200, 5);
  const auto sent = clock.Now();  // five requests in flight together
  clock.Advance(std::chrono::milliseconds(10));
  for (int i = 0; i < 5; ++i) limiter->OnThrottled("k", std::nullopt, sent);
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 600);
  // A request sent at the lower rate that is refused too halves it again.
  clock.Advance(std::chrono::milliseconds(10));
  limiter->OnThrottled("k", std::nullopt, clock.Now());
  EXPECT_NEAR(limiter->requests_per_minute("k"), 300, 1);
}

TEST(TokenBucketRateLimiterTest, NeverSlowerThanTheMinimumFraction) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 1600, 1);
  for (int i = 0; i < 20; ++i) limiter->OnThrottled("k", std::nullopt, clock.Now());
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 100);  // 1/16
}

TEST(TokenBucketRateLimiterTest, RecoversLinearlyToTheConfiguredRate) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 600, 1);  // recovery: 600/min per 60 s
  limiter->OnThrottled("k", std::nullopt, clock.Now());
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 300);
  clock.Advance(std::chrono::seconds(15));
  EXPECT_NEAR(limiter->requests_per_minute("k"), 450, 0.01);
  clock.Advance(std::chrono::seconds(15));
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 600);
  clock.Advance(std::chrono::seconds(60));
  EXPECT_DOUBLE_EQ(limiter->requests_per_minute("k"), 600);
  // Tokens follow: over the next 10 s, the full 10 a second (burst 1).
  EXPECT_EQ(
      TokensOver(*limiter, clock, "k", std::chrono::seconds(10), std::chrono::milliseconds(5)),
      100);
}

TEST(TokenBucketRateLimiterTest, TokensSlowDownThenRecover) {
  FakeClock clock;
  auto limiter = FakeClockLimiter(clock, 600, 1);
  limiter->OnThrottled("k", std::nullopt, clock.Now());
  // Right after the 429: 5 a second; 30 s later: 10 a second again.
  const int slowed =
      TokensOver(*limiter, clock, "k", std::chrono::seconds(2), std::chrono::milliseconds(5));
  EXPECT_GE(slowed, 10);
  EXPECT_LE(slowed, 12);
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(TokensOver(*limiter, clock, "k", std::chrono::seconds(2), std::chrono::milliseconds(5)),
            20);
}

TEST(TokenBucketRateLimiterTest, WaitersQueuedBeforeA429WaitForItsRetryAfter) {
  auto limiter = MakeLimiter(600, 1);  // 100 ms apart
  net::io_context io;
  std::vector<Clock::time_point> done;
  for (int i = 0; i < 5; ++i) {
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
          co_await limiter->Acquire("k");
          done.push_back(Clock::now());
        },
        net::detached);
  }
  io.poll();  // the first has its token; four wait for theirs
  ASSERT_EQ(done.size(), 1u);
  const auto throttled_at = Clock::now();
  limiter->OnThrottled("k", absl::Milliseconds(300), throttled_at);
  io.run();
  ASSERT_EQ(done.size(), 5u);
  for (size_t i = 1; i < done.size(); ++i) {
    EXPECT_GE(done[i] - throttled_at, std::chrono::milliseconds(300)) << i;
  }
  EXPECT_EQ(limiter->stats().acquired, 5);  // queueing again takes no extra token
}

}  // namespace
}  // namespace labelport::http
