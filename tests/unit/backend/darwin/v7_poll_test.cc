// Which failed polls a V7 wait outlives.
#include "service/backend/darwin/v7_poll.h"

#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

TEST(PollMayGoOnTest, OnlyAnUnreachableOrSlowV7) {
  EXPECT_TRUE(PollMayGoOn(absl::UnavailableError("down")));
  EXPECT_TRUE(PollMayGoOn(absl::DeadlineExceededError("slow")));
  EXPECT_FALSE(PollMayGoOn(absl::UnauthenticatedError("key")));
  EXPECT_FALSE(PollMayGoOn(absl::NotFoundError("dataset")));
  EXPECT_FALSE(PollMayGoOn(absl::ResourceExhaustedError("quota")));
}

}  // namespace
}  // namespace labelport::backend::darwin
