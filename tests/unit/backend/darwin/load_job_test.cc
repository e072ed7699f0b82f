// Export names of loads (the load itself runs against darwin-sim in
// tests/integration).
#include "service/backend/darwin/load_job.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

using ::testing::MatchesRegex;

TEST(ExportNameTest, RunPrefixTimeAndNonce) {
  EXPECT_THAT(ExportName("0123456789abcdefXYZ"),
              MatchesRegex("labelport-0123456789ab-[0-9]+-[0-9a-f]{8}"));
}

TEST(ExportNameTest, LoadsStartedTogetherGetDistinctNames) {
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) names.insert(ExportName("run"));
  EXPECT_EQ(names.size(), 100u);
}

}  // namespace
}  // namespace labelport::backend::darwin
