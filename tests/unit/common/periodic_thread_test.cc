#include "service/common/periodic_thread.h"

#include <atomic>

#include "gtest/gtest.h"

namespace labelport::common {
namespace {

TEST(PeriodicThreadTest, TicksAtOnceThenPeriodicallyAndStopsPromptly) {
  std::atomic<int> ticks{0};
  PeriodicThread thread(absl::Milliseconds(20), [&ticks] { ++ticks; });
  thread.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (ticks.load() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(ticks.load(), 3);
  thread.Stop();
  const int stopped_at = ticks.load();
  absl::SleepFor(absl::Milliseconds(60));
  EXPECT_EQ(ticks.load(), stopped_at);
}

TEST(PeriodicThreadTest, StopDoesNotWaitForTheInterval) {
  std::atomic<int> ticks{0};
  PeriodicThread thread(absl::Hours(1), [&ticks] { ++ticks; });
  thread.Start();
  while (ticks.load() < 1) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time before = absl::Now();
  thread.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(2));
}

}  // namespace
}  // namespace labelport::common
