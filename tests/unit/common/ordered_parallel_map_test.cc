#include "service/common/ordered_parallel_map.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::common {
namespace {

using ::testing::ElementsAreArray;

// Later inputs finish first (shorter sleeps), so order must be restored.
int SlowSquare(int x) {
  std::this_thread::sleep_for(std::chrono::microseconds((50 - x % 50) * 20));
  return x * x;
}

class OrderedParallelMapTest : public ::testing::TestWithParam<int> {};

TEST_P(OrderedParallelMapTest, DeliversEveryResultInInputOrder) {
  std::vector<int> delivered;
  std::vector<int> expected;
  {
    OrderedParallelMap<int, int> map(GetParam(), /*window=*/8, SlowSquare, [&](int y) {
      delivered.push_back(y);
      return absl::OkStatus();
    });
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(map.Push(i).ok());
      expected.push_back(i * i);
    }
    ASSERT_TRUE(map.Finish().ok());
  }
  EXPECT_THAT(delivered, ElementsAreArray(expected));
}

TEST_P(OrderedParallelMapTest, KeepsAtMostWindowInputsInFlight) {
  std::atomic<int> in_work{0};
  std::atomic<int> max_pending{0};
  int pushed = 0, delivered = 0;
  OrderedParallelMap<int, int> map(
      GetParam(), /*window=*/3,
      [&](int x) {
        in_work.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        in_work.fetch_sub(1);
        return x;
      },
      [&](int) {
        ++delivered;
        return absl::OkStatus();
      });
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(map.Push(i).ok());
    ++pushed;
    max_pending = std::max(max_pending.load(), pushed - delivered);
  }
  ASSERT_TRUE(map.Finish().ok());
  EXPECT_EQ(delivered, 100);
  EXPECT_LE(max_pending.load(), 3);
}

TEST_P(OrderedParallelMapTest, FirstDeliverErrorStopsTheMap) {
  std::vector<int> delivered;
  OrderedParallelMap<int, int> map(
      GetParam(), /*window=*/4, [](int x) { return x; },
      [&](int y) {
        if (y == 10) return absl::DataLossError("entry 10 is corrupt");
        delivered.push_back(y);
        return absl::OkStatus();
      });
  absl::Status push_status;
  for (int i = 0; i < 100 && push_status.ok(); ++i) push_status = map.Push(i);
  absl::Status finished = map.Finish();
  EXPECT_EQ(finished.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(finished.message(), "entry 10 is corrupt");
  // Nothing after the failing result is delivered.
  ASSERT_EQ(delivered.size(), 10u);
  EXPECT_EQ(delivered.back(), 9);
  // Push after the error does no work and returns the error.
  EXPECT_EQ(map.Push(500).code(), absl::StatusCode::kDataLoss);
}

TEST_P(OrderedParallelMapTest, WorkErrorsTravelInTheResult) {
  std::vector<std::string> seen;
  OrderedParallelMap<int, absl::StatusOr<int>> map(
      GetParam(), /*window=*/4,
      [](int x) -> absl::StatusOr<int> {
        if (x == 3) return absl::InvalidArgumentError(absl::StrCat("item ", x, " is not JSON"));
        return x;
      },
      [&](absl::StatusOr<int> r) {
        if (!r.ok()) return r.status();
        seen.push_back(absl::StrCat(*r));
        return absl::OkStatus();
      });
  for (int i = 0; i < 10; ++i) (void)map.Push(i);
  absl::Status s = map.Finish();
  EXPECT_EQ(s.message(), "item 3 is not JSON");
  EXPECT_THAT(seen, ElementsAreArray({"0", "1", "2"}));
}

TEST_P(OrderedParallelMapTest, DestroyingWithWorkInFlightJoinsCleanly) {
  int delivered = 0;
  {
    OrderedParallelMap<int, int> map(GetParam(), /*window=*/16, SlowSquare, [&](int) {
      ++delivered;
      return absl::OkStatus();
    });
    for (int i = 0; i < 16; ++i) ASSERT_TRUE(map.Push(i).ok());
  }  // no Finish: results are dropped
  EXPECT_LE(delivered, 16);
}

INSTANTIATE_TEST_SUITE_P(Threads, OrderedParallelMapTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return absl::StrCat(info.param, "_threads"); });

}  // namespace
}  // namespace labelport::common
