#include "service/common/await_on_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace labelport::common {
namespace {

namespace net = boost::asio;

TEST(AwaitOnPoolTest, RunsTheCallOnThePoolAndResumesOnTheCallersExecutor) {
  net::io_context io;
  net::thread_pool pool(2);
  std::thread::id call_thread;
  std::thread::id resumed_thread;
  auto call = [&]() -> absl::StatusOr<std::string> {
    call_thread = std::this_thread::get_id();
    return std::string("stored");
  };
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<std::string> {
        absl::StatusOr<std::string> got = co_await AwaitOnPool(pool, call);
        resumed_thread = std::this_thread::get_id();
        co_return got.value_or("error");
      },
      net::use_future);
  io.run();  // on this thread
  EXPECT_EQ(done.get(), "stored");
  EXPECT_NE(call_thread, std::this_thread::get_id());
  EXPECT_EQ(resumed_thread, std::this_thread::get_id());
  pool.join();
}

TEST(AwaitOnPoolTest, ACancelledCallerStillGetsTheCallsResult) {
  // The call cannot be interrupted: a cancellation of the awaiting coroutine,
  // emitted on its own executor while the call runs on the pool, neither
  // reaches the pool nor loses the result.
  net::io_context io;
  net::thread_pool pool(1);
  std::promise<void> call_started;
  std::promise<void> release_call;
  auto release = release_call.get_future().share();
  int calls = 0;
  auto call = [&]() -> absl::StatusOr<int> {
    ++calls;
    call_started.set_value();
    release.wait();
    return 42;
  };
  net::cancellation_signal cancel;
  auto done = net::co_spawn(
      io, [&]() -> net::awaitable<int> { co_return (co_await AwaitOnPool(pool, call)).value(); },
      net::bind_cancellation_slot(cancel.slot(), net::use_future));
  std::thread driver([&] {
    call_started.get_future().wait();
    // Emit on the caller's executor, as Asio requires, then let the call end.
    std::promise<void> emitted;
    net::post(io, [&] {
      cancel.emit(net::cancellation_type::terminal);
      emitted.set_value();
    });
    emitted.get_future().wait();
    release_call.set_value();
  });
  io.run();
  driver.join();
  EXPECT_EQ(done.get(), 42);
  EXPECT_EQ(calls, 1);
  pool.join();
}

}  // namespace
}  // namespace labelport::common
