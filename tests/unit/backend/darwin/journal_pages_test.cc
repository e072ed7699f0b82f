// Range reads of scattered progress records.
#include "service/backend/darwin/journal_pages.h"

#include <vector>

#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

bool operator==(const PositionRange& a, const PositionRange& b) {
  return a.start == b.start && a.count == b.count && a.first == b.first && a.end == b.end;
}

TEST(RangesOfTest, NoPositionsNoReads) { EXPECT_TRUE(RangesOf({}, 32, 2000).empty()); }

TEST(RangesOfTest, ClosePositionsShareARead) {
  const std::vector<PositionRange> ranges = RangesOf({3, 10, 42}, 32, 2000);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_TRUE((ranges[0] == PositionRange{.start = 3, .count = 40, .first = 0, .end = 3}));
}

TEST(RangesOfTest, AGapWiderThanMaxGapStartsANewRead) {
  const std::vector<PositionRange> ranges = RangesOf({0, 32, 65, 66}, 32, 2000);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_TRUE((ranges[0] == PositionRange{.start = 0, .count = 33, .first = 0, .end = 2}));
  EXPECT_TRUE((ranges[1] == PositionRange{.start = 65, .count = 2, .first = 2, .end = 4}));
}

TEST(RangesOfTest, AReadSpansLessThanMaxSpan) {
  std::vector<int64_t> positions;
  for (int64_t p = 0; p < 100; p += 10) positions.push_back(p);
  const std::vector<PositionRange> ranges = RangesOf(positions, 32, 50);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_TRUE((ranges[0] == PositionRange{.start = 0, .count = 41, .first = 0, .end = 5}));
  EXPECT_TRUE((ranges[1] == PositionRange{.start = 50, .count = 41, .first = 5, .end = 10}));
}

}  // namespace
}  // namespace labelport::backend::darwin
