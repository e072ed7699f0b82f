#include "service/common/ordered_parallel_map.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/cpu_pool.h"

namespace labelport::common {
namespace {

namespace net = boost::asio;
using ::testing::ElementsAreArray;

// Later inputs finish first (shorter sleeps), so order must be restored.
int SlowSquare(int x) {
  std::this_thread::sleep_for(std::chrono::microseconds((50 - x % 50) * 20));
  return x * x;
}

net::awaitable<absl::Status> Ok() { co_return absl::OkStatus(); }

// Runs `body` as a coroutine on a one-thread io_context (the "I/O thread")
// until it completes; rethrows what it threw.
template <typename Body>
void RunOnIoThread(net::io_context& io, Body body) {
  std::exception_ptr error;
  net::co_spawn(io, std::move(body), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
}

// The parameter is the pool's size; 0: no pool (inline).
class OrderedParallelMapTest : public ::testing::TestWithParam<int> {
 protected:
  CpuPool* pool() { return pool_.get(); }

 private:
  std::unique_ptr<CpuPool> pool_ = GetParam() > 0 ? std::make_unique<CpuPool>(GetParam()) : nullptr;
};

TEST_P(OrderedParallelMapTest, DeliversEveryResultInInputOrder) {
  std::vector<int> delivered;
  std::vector<int> expected;
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, int> map(pool(), /*window=*/8, SlowSquare,
                                     [&](int y) -> net::awaitable<absl::Status> {
                                       delivered.push_back(y);
                                       co_return absl::OkStatus();
                                     });
    for (int i = 0; i < 200; ++i) {
      EXPECT_TRUE((co_await map.Push(i)).ok());
      expected.push_back(i * i);
    }
    EXPECT_TRUE((co_await map.Finish()).ok());
  });
  EXPECT_THAT(delivered, ElementsAreArray(expected));
}

TEST_P(OrderedParallelMapTest, KeepsAtMostWindowInputsInFlight) {
  int pushed = 0, delivered = 0, max_pending = 0;
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, int> map(
        pool(), /*window=*/3,
        [&](int x) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          return x;
        },
        [&](int) -> net::awaitable<absl::Status> {
          ++delivered;
          co_return absl::OkStatus();
        });
    for (int i = 0; i < 100; ++i) {
      EXPECT_TRUE((co_await map.Push(i)).ok());
      ++pushed;
      max_pending = std::max(max_pending, pushed - delivered);
    }
    EXPECT_TRUE((co_await map.Finish()).ok());
  });
  EXPECT_EQ(delivered, 100);
  EXPECT_LE(max_pending, 3);
}

TEST_P(OrderedParallelMapTest, FirstDeliverErrorStopsTheMap) {
  std::vector<int> delivered;
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, int> map(
        pool(), /*window=*/4, [](int x) { return x; },
        [&](int y) -> net::awaitable<absl::Status> {
          if (y == 10) co_return absl::DataLossError("entry 10 is corrupt");
          delivered.push_back(y);
          co_return absl::OkStatus();
        });
    absl::Status push_status;
    for (int i = 0; i < 100 && push_status.ok(); ++i) push_status = co_await map.Push(i);
    absl::Status finished = co_await map.Finish();
    EXPECT_EQ(finished.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(finished.message(), "entry 10 is corrupt");
    // Push after the error does no work and returns the error.
    EXPECT_EQ((co_await map.Push(500)).code(), absl::StatusCode::kDataLoss);
  });
  // Nothing after the failing result is delivered.
  ASSERT_EQ(delivered.size(), 10u);
  EXPECT_EQ(delivered.back(), 9);
}

TEST_P(OrderedParallelMapTest, WorkErrorsTravelInTheResult) {
  std::vector<std::string> seen;
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, absl::StatusOr<int>> map(
        pool(), /*window=*/4,
        [](int x) -> absl::StatusOr<int> {
          if (x == 3) return absl::InvalidArgumentError(absl::StrCat("item ", x, " is not JSON"));
          return x;
        },
        [&](absl::StatusOr<int> r) -> net::awaitable<absl::Status> {
          if (!r.ok()) co_return r.status();
          seen.push_back(absl::StrCat(*r));
          co_return absl::OkStatus();
        });
    for (int i = 0; i < 10; ++i) (void)co_await map.Push(i);
    absl::Status s = co_await map.Finish();
    EXPECT_EQ(s.message(), "item 3 is not JSON");
  });
  EXPECT_THAT(seen, ElementsAreArray({"0", "1", "2"}));
}

TEST_P(OrderedParallelMapTest, DrainWaitsForWorkInFlightAndDropsIt) {
  std::atomic<int> worked{0};
  int delivered = 0;
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, int> map(
        pool(), /*window=*/16,
        [&](int x) {
          worked.fetch_add(1);
          return SlowSquare(x);
        },
        [&](int) -> net::awaitable<absl::Status> {
          ++delivered;
          co_return absl::OkStatus();
        });
    for (int i = 0; i < 16; ++i) EXPECT_TRUE((co_await map.Push(i)).ok());
    co_await map.Drain();
    // Every pushed input has been worked on: nothing runs after Drain.
    EXPECT_EQ(worked.load(), 16);
  });
  EXPECT_LE(delivered, 16);
}

TEST_P(OrderedParallelMapTest, DestroyingWithWorkInFlightWaitsForIt) {
  std::atomic<int> worked{0};
  net::io_context io;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    {
      OrderedParallelMap<int, int> map(
          pool(), /*window=*/16,
          [&](int x) {
            int y = SlowSquare(x);
            worked.fetch_add(1);
            return y;
          },
          [](int) { return Ok(); });
      for (int i = 0; i < 16; ++i) EXPECT_TRUE((co_await map.Push(i)).ok());
    }  // no Finish: results are dropped
    EXPECT_EQ(worked.load(), 16);
  });
}

INSTANTIATE_TEST_SUITE_P(PoolThreads, OrderedParallelMapTest, ::testing::Values(0, 1, 2, 4),
                         [](const auto& info) { return absl::StrCat(info.param, "_threads"); });

// The I/O thread is never blocked while work is in flight: with one I/O
// thread, a handler posted to it runs while the map waits for a result, and
// it is what lets the work finish. (The former map blocked the pushing
// thread on a condition variable: the handler could not run, and the work
// gave up after its timeout.)
TEST(OrderedParallelMapIoTest, WaitingForResultsLeavesTheIoThreadFree) {
  CpuPool pool(1);
  net::io_context io;
  absl::Notification released;
  std::vector<bool> in_time;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    OrderedParallelMap<int, bool> map(
        &pool, /*window=*/1,
        [&](int) { return released.WaitForNotificationWithTimeout(absl::Seconds(10)); },
        [&](bool ok) -> net::awaitable<absl::Status> {
          in_time.push_back(ok);
          co_return absl::OkStatus();
        });
    EXPECT_TRUE((co_await map.Push(1)).ok());
    // Runs on this I/O thread only if the waits below leave it free.
    net::post(io, [&] { released.Notify(); });
    // The window is full: this Push waits for the first result.
    EXPECT_TRUE((co_await map.Push(2)).ok());
    EXPECT_TRUE((co_await map.Finish()).ok());
  });
  EXPECT_THAT(in_time, ElementsAreArray({true, true}));
}

TEST(CpuPoolTest, RunsOnAPoolThreadAndResumesOnTheCaller) {
  CpuPool pool(2);
  EXPECT_EQ(pool.threads(), 2);
  net::io_context io;
  std::thread::id io_thread, worker, resumed;
  RunOnIoThread(io, [&]() -> net::awaitable<void> {
    io_thread = std::this_thread::get_id();
    int r = co_await pool.Run([&] {
      worker = std::this_thread::get_id();
      return 42;
    });
    resumed = std::this_thread::get_id();
    EXPECT_EQ(r, 42);
  });
  EXPECT_NE(worker, io_thread);
  EXPECT_EQ(resumed, io_thread);
  EXPECT_GE(CpuPool(0).threads(), 1);
}

}  // namespace
}  // namespace labelport::common
