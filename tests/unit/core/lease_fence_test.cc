// LeaseFence opens writes until ttl - margin after the last renewal; a
// later renewal reopens it, an older one never moves it back, and a lost
// lease stays lost. Watchers are told once when the fence closes (MarkLost,
// or NotifyIfClosed past the deadline), never after Unwatch.
#include "service/core/lease_fence.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace labelport::core {
namespace {

TEST(LeaseFenceTest, OpenUntilTtlMinusMarginAfterTheLastRenewal) {
  absl::Time now = absl::FromUnixSeconds(50);
  LeaseFence fence("run", absl::Seconds(9), absl::Seconds(3), now, [&now] { return now; });
  EXPECT_TRUE(fence.Check().ok());
  now += absl::Seconds(6);
  EXPECT_TRUE(fence.Check().ok());
  now += absl::Milliseconds(1);
  EXPECT_EQ(fence.Check().code(), absl::StatusCode::kAborted);
  // An older renewal (a slow answer) never moves the last renewal back.
  fence.MarkRenewed(now - absl::Seconds(1));
  fence.MarkRenewed(now - absl::Seconds(5));
  EXPECT_TRUE(fence.Check().ok());
  now += absl::Seconds(5);
  EXPECT_TRUE(fence.Check().ok());
  now += absl::Milliseconds(1);
  EXPECT_FALSE(fence.Check().ok());
}

TEST(LeaseFenceTest, CountsFromWhenTheClaimWasSentNotFromConstruction) {
  absl::Time now = absl::FromUnixSeconds(50);
  // The claim took 6 s to answer: 3 s of the lease are left, all margin.
  LeaseFence fence("run", absl::Seconds(9), absl::Seconds(3), now - absl::Seconds(6),
                   [&now] { return now; });
  EXPECT_TRUE(fence.Check().ok());
  now += absl::Milliseconds(1);
  EXPECT_EQ(fence.Check().code(), absl::StatusCode::kAborted);
}

TEST(LeaseFenceTest, ALostLeaseStaysLost) {
  absl::Time now = absl::FromUnixSeconds(50);
  LeaseFence fence("run", absl::Seconds(9), absl::Seconds(3), now, [&now] { return now; });
  EXPECT_FALSE(fence.was_closed());
  fence.MarkLost();
  fence.MarkRenewed(now + absl::Seconds(1));
  EXPECT_EQ(fence.Check().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(fence.lost());
  EXPECT_TRUE(fence.was_closed());
}

TEST(LeaseFenceTest, WatchersAreToldOnceWhenTheLeaseIsLost) {
  absl::Time now = absl::FromUnixSeconds(50);
  LeaseFence fence("run", absl::Seconds(9), absl::Seconds(3), now, [&now] { return now; });
  std::vector<absl::Status> told;
  const int64_t watching = fence.Watch([&told](const absl::Status& s) { told.push_back(s); });
  const int64_t gone = fence.Watch([&told](const absl::Status& s) { told.push_back(s); });
  EXPECT_NE(watching, 0);
  fence.Unwatch(gone);
  EXPECT_TRUE(told.empty());
  fence.MarkLost();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].code(), absl::StatusCode::kAborted);
  EXPECT_NE(told[0].message().find("lost the run's lease"), absl::string_view::npos);
  // Told once; a watcher that comes later is told at once.
  fence.MarkLost();
  EXPECT_EQ(told.size(), 1u);
  EXPECT_EQ(fence.Watch([&told](const absl::Status& s) { told.push_back(s); }), 0);
  EXPECT_EQ(told.size(), 2u);
}

TEST(LeaseFenceTest, NotifyIfClosedTellsWatchersOnlyPastTheDeadlineWhichRenewalsMoveOn) {
  absl::Time now = absl::FromUnixSeconds(50);
  LeaseFence fence("run", absl::Seconds(9), absl::Seconds(3), now, [&now] { return now; });
  EXPECT_EQ(fence.deadline(), now + absl::Seconds(6));
  int told = 0;
  fence.Watch([&told](const absl::Status&) { ++told; });
  now += absl::Seconds(6);
  EXPECT_TRUE(fence.NotifyIfClosed().ok());
  EXPECT_EQ(told, 0);
  // Renewed in time: the deadline moves on.
  fence.MarkRenewed(now);
  EXPECT_EQ(fence.deadline(), now + absl::Seconds(6));
  now += absl::Seconds(6) + absl::Milliseconds(1);
  EXPECT_EQ(fence.NotifyIfClosed().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(told, 1);
  EXPECT_FALSE(fence.NotifyIfClosed().ok());
  EXPECT_EQ(told, 1);
  // Reopened by a renewal, a new watcher waits for the next closure.
  fence.MarkRenewed(now);
  EXPECT_NE(fence.Watch([&told](const absl::Status&) { ++told; }), 0);
  EXPECT_EQ(told, 1);
}

}  // namespace
}  // namespace labelport::core
