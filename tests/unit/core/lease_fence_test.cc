// LeaseFence opens writes until ttl - margin after the last renewal; a
// later renewal reopens it, an older one never moves it back, and a lost
// lease stays lost.
#include "service/core/lease_fence.h"

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

}  // namespace
}  // namespace labelport::core
