#include "service/http/retry_loop.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;

// A loop on a fake clock that the fake sleep advances.
class RetryLoopTest : public ::testing::Test {
 protected:
  RetryLoop::Hooks Hooks() {
    RetryLoop::Hooks hooks;
    hooks.now = [this] { return now_; };
    hooks.sleep = [this](absl::Duration d) -> net::awaitable<void> {
      sleeps_.push_back(d);
      now_ += d;
      co_return;
    };
    hooks.uniform01 = [] { return 0.0; };
    hooks.on_event = [this](const RetryEvent& e) { events_.push_back(e); };
    return hooks;
  }

  static RetryPolicy Policy() {
    RetryPolicy policy;
    policy.max_attempts = 4;
    policy.initial_backoff = absl::Seconds(1);
    policy.max_backoff = absl::Seconds(10);
    return policy;
  }

  // Runs a step whose attempts return `outcomes` in turn, recording each
  // attempt's deadline.
  absl::StatusOr<int> RunSteps(RetryLoop& loop, std::vector<Attempted<int>> outcomes,
                               absl::Time deadline) {
    net::io_context io;
    auto op =
        loop.Run<int>(deadline, "GET", "https://x.example/a",
                      [&](int n, absl::Time attempt_deadline) -> net::awaitable<Attempted<int>> {
                        deadlines_.push_back(attempt_deadline);
                        co_return outcomes.at(static_cast<size_t>(n - 1));
                      });
    auto future = net::co_spawn(io, std::move(op), net::use_future);
    io.run();
    return future.get();
  }

  static Attempted<int> Retryable(absl::StatusCode code = absl::StatusCode::kUnavailable) {
    Attempted<int> a;
    a.result = absl::Status(code, "failed");
    a.retryable = true;
    return a;
  }
  static Attempted<int> Done(int value) {
    Attempted<int> a;
    a.result = value;
    return a;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  std::vector<absl::Duration> sleeps_;
  std::vector<absl::Time> deadlines_;
  std::vector<RetryEvent> events_;
};

TEST_F(RetryLoopTest, RetriesUntilSuccessWithBackoffOrRetryAfter) {
  RetryLoop loop(Policy(), Hooks());
  Attempted<int> throttled = Retryable();
  throttled.retry_after = absl::Seconds(7);
  throttled.http_status = 429;
  auto result = RunSteps(loop, {Retryable(), throttled, Done(42)}, absl::InfiniteFuture());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(sleeps_, (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(7)}));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[1].http_status, 429);
  EXPECT_EQ(events_[1].delay, absl::Seconds(7));
  EXPECT_EQ(loop.stats().attempts, 3);
  EXPECT_EQ(loop.stats().retries, 2);
  EXPECT_EQ(loop.stats().gave_up, 0);
}

TEST_F(RetryLoopTest, NonRetryableFailureIsReturnedAtOnce) {
  RetryLoop loop(Policy(), Hooks());
  Attempted<int> final_failure;
  final_failure.result = absl::NotFoundError("gone");
  EXPECT_EQ(RunSteps(loop, {final_failure}, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_TRUE(events_.empty());
}

TEST_F(RetryLoopTest, AnAttemptThatCannotBeRepeatedGivesUp) {
  RetryLoop loop(Policy(), Hooks());
  Attempted<int> streamed = Retryable();
  streamed.may_repeat = false;
  EXPECT_FALSE(RunSteps(loop, {streamed, Done(1)}, absl::InfiniteFuture()).ok());
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, RetryEvent::Kind::kGiveUp);
  EXPECT_EQ(loop.stats().gave_up, 1);
}

TEST_F(RetryLoopTest, DeadlineAndPerAttemptTimeoutBoundTheAttempts) {
  RetryPolicy policy = Policy();
  policy.max_attempts = 100;
  policy.per_attempt_timeout = absl::Seconds(2);
  RetryLoop loop(policy, Hooks());
  const absl::Time start = now_;
  // Waits 1 s, 2 s; the next (4 s) would end after start + 6 s.
  EXPECT_FALSE(
      RunSteps(loop, std::vector<Attempted<int>>(100, Retryable()), start + absl::Seconds(6)).ok());
  EXPECT_EQ(deadlines_.size(), 3u);
  EXPECT_EQ(deadlines_[0], start + absl::Seconds(2));
  EXPECT_EQ(deadlines_[2], start + absl::Seconds(5));
  EXPECT_EQ(events_.back().kind, RetryEvent::Kind::kGiveUp);
}

TEST_F(RetryLoopTest, InvalidPolicyMeansOneAttempt) {
  RetryPolicy policy = Policy();
  policy.multiplier = 0.5;
  RetryLoop loop(policy, Hooks());
  EXPECT_FALSE(RunSteps(loop, {Retryable(), Done(1)}, absl::InfiniteFuture()).ok());
  EXPECT_EQ(loop.stats().attempts, 1);
}

}  // namespace
}  // namespace labelport::http
