#include "service/common/parallel_for.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace labelport::common {
namespace {

namespace net = boost::asio;

TEST(ParallelForTest, RunsEveryIndexOnceWithBoundedConcurrency) {
  net::io_context io;
  std::vector<int> runs(100, 0);
  int running = 0;
  int most_running = 0;
  auto task = ParallelFor(runs.size(), 7, [&](size_t i) -> net::awaitable<void> {
    ++runs[i];
    most_running = std::max(most_running, ++running);
    // Suspends, so that the other workers run meanwhile.
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    --running;
  });
  auto done = net::co_spawn(io, std::move(task), net::use_future);
  io.run();
  done.get();
  EXPECT_EQ(most_running, 7);
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i], 1) << "index " << i;
}

TEST(ParallelForTest, NothingToDoCompletesAtOnce) {
  net::io_context io;
  bool called = false;
  auto done = net::co_spawn(io,
                            ParallelFor(0, 4,
                                        [&](size_t) -> net::awaitable<void> {
                                          called = true;
                                          co_return;
                                        }),
                            net::use_future);
  io.run();
  done.get();
  EXPECT_FALSE(called);
}

// The bodies may use the caller's frame: a cancelled caller still waits for
// them, and the cancellation does not reach them.
TEST(ParallelForTest, ACancelledCallerWaitsForItsBodies) {
  net::io_context io;
  net::steady_timer gate(io, net::steady_timer::time_point::max());
  int waiting = 0;
  int finished = 0;
  int finished_when_returned = -1;
  auto caller = [&]() -> net::awaitable<void> {
    co_await ParallelFor(3, 3, [&](size_t) -> net::awaitable<void> {
      ++waiting;
      auto [ec] = co_await gate.async_wait(net::as_tuple(net::use_awaitable));
      EXPECT_EQ(ec, net::error::operation_aborted);  // by gate.cancel(), below
      ++finished;
    });
    finished_when_returned = finished;
  };
  net::cancellation_signal cancel;
  auto done =
      net::co_spawn(io, caller(), net::bind_cancellation_slot(cancel.slot(), net::use_future));
  while (waiting < 3 && io.run_one() > 0) {
  }
  ASSERT_EQ(waiting, 3);
  cancel.emit(net::cancellation_type::terminal);
  io.poll();
  EXPECT_EQ(finished, 0);
  EXPECT_EQ(finished_when_returned, -1);
  gate.cancel();
  io.run();
  done.get();
  EXPECT_EQ(finished_when_returned, 3);
}

// Many short loops on an io_context with several threads: the workers of a
// loop can all finish on other threads before the loop has even finished
// starting them, and the awaiting coroutine (bound to a cancellation slot,
// like any coroutine under a parallel group) goes on to its next operation
// at once. Under ASan the loop's start must not touch what its completion
// freed, nor the coroutine's cancellation slot once it has moved on.
net::awaitable<void> ShortLoops(int loops, std::atomic<int>& runs) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (int k = 0; k < loops; ++k) {
    co_await ParallelFor(3, 3, [&runs](size_t) -> net::awaitable<void> {
      ++runs;
      co_return;
    });
    timer.expires_after(std::chrono::microseconds(1));
    co_await timer.async_wait(net::use_awaitable);
  }
}

TEST(ParallelForTest, LoopsThatFinishWhileStartingOnSeveralThreads) {
  constexpr int kCallers = 8;
  constexpr int kLoops = 200;
  net::io_context io;
  auto work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
  std::atomic<int> runs{0};
  std::vector<std::unique_ptr<net::cancellation_signal>> signals;
  std::vector<std::future<void>> callers;
  for (int c = 0; c < kCallers; ++c) {
    signals.push_back(std::make_unique<net::cancellation_signal>());
    callers.push_back(
        net::co_spawn(io, ShortLoops(kLoops, runs),
                      net::bind_cancellation_slot(signals.back()->slot(), net::use_future)));
  }
  bool all_done = true;
  for (auto& caller : callers) {
    all_done = all_done && caller.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  }
  work.reset();
  if (!all_done) io.stop();
  for (auto& t : threads) t.join();
  ASSERT_TRUE(all_done);
  for (auto& caller : callers) caller.get();
  EXPECT_EQ(runs.load(), kCallers * kLoops * 3);
}

}  // namespace
}  // namespace labelport::common
