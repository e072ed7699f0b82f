#include "service/backend/darwin/v7_outage_wait.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>
#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

namespace net = boost::asio;

// A probe answering with the scripted statuses in order (then OK), counting
// its calls.
struct ScriptedProbe {
  std::deque<absl::Status> answers;
  int calls = 0;

  V7OutageWait::Probe Fn() {
    return [this]() -> net::awaitable<absl::Status> {
      ++calls;
      if (answers.empty()) co_return absl::OkStatus();
      absl::Status next = answers.front();
      answers.pop_front();
      co_return next;
    };
  }
};

V7OutageWait::Options Fast() {
  return {.initial_backoff = absl::Milliseconds(1),
          .max_backoff = absl::Milliseconds(4),
          .max_wait = absl::Seconds(30),
          .probe_reuse = absl::ZeroDuration(),
          .log_name = "run test"};
}

bool ShouldRetry(V7OutageWait& wait, absl::Status failure,
                 absl::Time started = absl::InfinitePast(), int repeats = 1) {
  net::io_context io;
  auto result =
      net::co_spawn(io, wait.ShouldRetry(std::move(failure), started, repeats), net::use_future);
  io.run();
  return result.get();
}

const absl::Status kRefused = absl::UnavailableError("V7 GET /api/x: connection refused");

TEST(V7OutageWaitTest, OtherFailuresAreNeverRetried) {
  ScriptedProbe probe;
  V7OutageWait wait(probe.Fn(), Fast());
  EXPECT_FALSE(ShouldRetry(wait, absl::InvalidArgumentError("422")));
  EXPECT_FALSE(ShouldRetry(wait, absl::UnauthenticatedError("401")));
  EXPECT_EQ(probe.calls, 0);
}

TEST(V7OutageWaitTest, WhenV7AnswersTheFailureStandsAfterOneRepeat) {
  ScriptedProbe probe;
  V7OutageWait wait(probe.Fn(), Fast());
  // The first failure is repeated once: the probe's own HTTP retries may
  // have hidden the end of an outage.
  EXPECT_TRUE(ShouldRetry(wait, absl::DeadlineExceededError("slow import"), absl::Now(), 0));
  EXPECT_FALSE(ShouldRetry(wait, absl::DeadlineExceededError("slow import"), absl::Now(), 1));
  EXPECT_EQ(probe.calls, 2);
  EXPECT_EQ(wait.DownTime(), absl::ZeroDuration());
}

TEST(V7OutageWaitTest, AnOutageIsWaitedOutUntilV7Answers) {
  ScriptedProbe probe;
  probe.answers = {kRefused, kRefused, absl::UnavailableError("V7: 503"), kRefused};
  V7OutageWait wait(probe.Fn(), Fast());
  EXPECT_TRUE(ShouldRetry(wait, kRefused));
  EXPECT_EQ(probe.calls, 5);  // four failed probes, then one that answered
  EXPECT_GT(wait.DownTime(), absl::ZeroDuration());
}

TEST(V7OutageWaitTest, AFailureFromAnOutageThatJustEndedIsRetried) {
  ScriptedProbe probe;
  probe.answers = {kRefused};
  V7OutageWait wait(probe.Fn(), Fast());
  const absl::Time before = absl::Now();
  EXPECT_TRUE(ShouldRetry(wait, kRefused, before));  // V7 was down, and is back
  // Another call that started during the outage failed just after it: V7
  // answers the probe, but it was down while the call ran.
  EXPECT_TRUE(ShouldRetry(wait, kRefused, before));
  // A call that started after V7 came back failed on its own.
  EXPECT_FALSE(ShouldRetry(wait, kRefused, absl::Now()));
}

TEST(V7OutageWaitTest, ARefusedKeyEndsTheWait) {
  ScriptedProbe probe;
  probe.answers = {kRefused, absl::UnauthenticatedError("V7: 401")};
  V7OutageWait wait(probe.Fn(), Fast());
  EXPECT_FALSE(ShouldRetry(wait, kRefused));
  EXPECT_EQ(probe.calls, 2);
}

TEST(V7OutageWaitTest, GivesUpMaxWaitAfterV7WentDown) {
  ScriptedProbe probe;
  for (int i = 0; i < 10000; ++i) probe.answers.push_back(kRefused);
  V7OutageWait::Options options = Fast();
  options.max_wait = absl::Milliseconds(50);
  V7OutageWait wait(probe.Fn(), options);
  const absl::Time start = absl::Now();
  EXPECT_FALSE(ShouldRetry(wait, kRefused));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_GT(probe.calls, 2);
}

TEST(V7OutageWaitTest, ZeroMaxWaitNeverWaits) {
  ScriptedProbe probe;
  V7OutageWait::Options options = Fast();
  options.max_wait = absl::ZeroDuration();
  V7OutageWait wait(probe.Fn(), options);
  EXPECT_FALSE(ShouldRetry(wait, kRefused));
  EXPECT_EQ(probe.calls, 0);
}

TEST(V7OutageWaitTest, WaitingStepsShareProbes) {
  ScriptedProbe probe;
  probe.answers = {kRefused, kRefused, kRefused};
  V7OutageWait::Options options = Fast();
  options.probe_reuse = absl::Hours(1);
  options.max_wait = absl::Milliseconds(30);
  V7OutageWait wait(probe.Fn(), options);
  net::io_context io;
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 10; ++i) {
    results.push_back(
        net::co_spawn(io, wait.ShouldRetry(kRefused, absl::InfinitePast(), 1), net::use_future));
  }
  io.run();
  for (auto& r : results) EXPECT_FALSE(r.get());  // the one shared answer: down, until max_wait
  EXPECT_EQ(probe.calls, 1);
}

}  // namespace
}  // namespace labelport::backend::darwin
