#include "service/common/periodic_thread.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::common {
namespace {

using ::labelport::testing::WaitUntil;

TEST(PeriodicThreadTest, TicksAtOnceThenPeriodicallyAndStopWaitsForTheRunningTick) {
  std::atomic<int> entered{0};
  std::atomic<int> left{0};
  absl::Notification third_tick_running;
  absl::Notification stopping;
  PeriodicThread thread(absl::Milliseconds(5), [&] {
    if (++entered == 3) {
      third_tick_running.Notify();
      // Holds the tick until Stop() has been called, so that Stop meets a
      // running tick.
      stopping.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    ++left;
  });
  thread.Start();
  ASSERT_TRUE(third_tick_running.WaitForNotificationWithTimeout(absl::Seconds(10)));
  stopping.Notify();
  thread.Stop();
  // Stop returned after the running tick ended, and the thread is gone: no
  // tick is running or can start.
  const int stopped_at = entered.load();
  EXPECT_GE(stopped_at, 3);
  EXPECT_EQ(left.load(), stopped_at);
  thread.Stop();  // idempotent
  EXPECT_EQ(entered.load(), stopped_at);
}

TEST(PeriodicThreadTest, StopDoesNotWaitForTheInterval) {
  std::atomic<int> ticks{0};
  PeriodicThread thread(absl::Hours(1), [&ticks] { ++ticks; });
  thread.Start();
  ASSERT_TRUE(WaitUntil([&] { return ticks.load() >= 1; }, absl::Seconds(10), "the first tick"));
  const absl::Time before = absl::Now();
  thread.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(2));
}

}  // namespace
}  // namespace labelport::common
