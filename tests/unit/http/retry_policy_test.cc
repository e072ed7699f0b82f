#include "service/http/retry_policy.h"

#include <gtest/gtest.h>

namespace labelport::http {
namespace {

TEST(RetryPolicyTest, RetryableStatuses) {
  for (int status : {429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableHttpStatus(status, true));
  for (int status : {200, 400, 401, 404, 413, 422, 501}) {
    EXPECT_FALSE(IsRetryableHttpStatus(status, true)) << status;
  }
  EXPECT_TRUE(IsRetryableHttpStatus(429, false));
  EXPECT_TRUE(IsRetryableHttpStatus(503, false));
  EXPECT_FALSE(IsRetryableHttpStatus(500, false));
  EXPECT_FALSE(IsRetryableHttpStatus(502, false));
  EXPECT_FALSE(IsRetryableHttpStatus(504, false));
}

TEST(RetryPolicyTest, RetryableErrors) {
  EXPECT_TRUE(IsRetryableError(absl::UnavailableError("x"), true));
  EXPECT_TRUE(IsRetryableError(absl::DeadlineExceededError("x"), true));
  EXPECT_FALSE(IsRetryableError(absl::UnavailableError("x"), false));
  EXPECT_FALSE(IsRetryableError(absl::InvalidArgumentError("x"), true));
  EXPECT_FALSE(IsRetryableError(absl::ResourceExhaustedError("x"), true));
}

TEST(RetryPolicyTest, BackoffGrowsAndIsCapped) {
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.multiplier = 2;
  policy.max_backoff = absl::Milliseconds(500);
  policy.jitter = 0.5;
  EXPECT_EQ(BackoffDelay(policy, 1, 0.0), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.0), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.0), absl::Milliseconds(400));
  EXPECT_EQ(BackoffDelay(policy, 4, 0.0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, 100, 0.0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, 1, 1.0), absl::Milliseconds(50));
  const absl::Duration jittered = BackoffDelay(policy, 2, 0.5);
  EXPECT_EQ(jittered, absl::Milliseconds(150));
}

TEST(RetryPolicyTest, MayRetryNeedsAttemptsLeftAndAWaitThatEndsBeforeTheDeadline) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  const absl::Time now = absl::FromUnixSeconds(1000);
  const absl::Time deadline = now + absl::Seconds(10);
  EXPECT_TRUE(MayRetry(policy, 1, now, absl::Seconds(1), deadline));
  EXPECT_TRUE(MayRetry(policy, 2, now, absl::Seconds(9), deadline));
  EXPECT_FALSE(MayRetry(policy, 3, now, absl::Seconds(1), deadline));   // attempts spent
  EXPECT_FALSE(MayRetry(policy, 1, now, absl::Seconds(10), deadline));  // wait ends at it
  EXPECT_FALSE(MayRetry(policy, 1, now, absl::Hours(1), deadline));
  EXPECT_TRUE(MayRetry(policy, 1, now, absl::Hours(1), absl::InfiniteFuture()));
  policy.max_attempts = 1;
  EXPECT_FALSE(MayRetry(policy, 1, now, absl::ZeroDuration(), deadline));
}

TEST(RetryPolicyTest, Validate) {
  EXPECT_TRUE(RetryPolicy{}.Validate().ok());
  RetryPolicy bad;
  bad.max_attempts = 0;
  EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument);
  bad = RetryPolicy{};
  bad.jitter = 2;
  EXPECT_FALSE(bad.Validate().ok());
  bad = RetryPolicy{};
  bad.multiplier = 0.5;
  EXPECT_FALSE(bad.Validate().ok());
}

TEST(RetryPolicyTest, ParseRetryAfter) {
  const absl::Time now = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:29:00 GMT", now), absl::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:10 2015", now), absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
}

}  // namespace
}  // namespace labelport::http
