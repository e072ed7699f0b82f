#include "rate_limiter.h"

#include "gtest/gtest.h"

namespace labelport::darwin_sim {
namespace {

TEST(RateLimiterTest, BucketPerKeyWithRetryAfter) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 60; ++i) EXPECT_EQ(limiter.Acquire("a", 60, t0), 0) << i;
  EXPECT_EQ(limiter.Acquire("a", 60, t0), 1);  // One token per second.
  EXPECT_EQ(limiter.Acquire("b", 60, t0), 0);  // Separate bucket.
  EXPECT_EQ(limiter.Acquire("a", 60, t0 + std::chrono::milliseconds(1100)), 0);
  EXPECT_EQ(limiter.Acquire("a", 0, t0), 0);  // 0 = no limit.
}

TEST(RateLimiterTest, RetryAfterScalesWithLimit) {
  RateLimiter limiter;
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 2; ++i) limiter.Acquire("k", 2, t0);
  EXPECT_EQ(limiter.Acquire("k", 2, t0), 30);
}

}  // namespace
}  // namespace labelport::darwin_sim
