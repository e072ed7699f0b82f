#include "service/api/request_scoped_executor.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace labelport::api {
namespace {

namespace net = boost::asio;

// Records the thread's request id after each of several suspensions.
net::awaitable<std::vector<std::string>> SeenIds() {
  std::vector<std::string> seen;
  auto executor = co_await net::this_coro::executor;
  for (int i = 0; i < 3; ++i) {
    net::steady_timer timer(executor, std::chrono::milliseconds(5));
    co_await timer.async_wait(net::use_awaitable);
    seen.emplace_back(common::CurrentRequestId());
    co_await net::post(executor, net::use_awaitable);
    seen.emplace_back(common::CurrentRequestId());
  }
  co_return seen;
}

TEST(RequestScopedExecutorTest, EveryStepOfACoroutineRunsInsideTheRequestScope) {
  net::io_context io;
  auto work = net::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&io] { io.run(); });

  auto first =
      net::co_spawn(RequestScopedExecutor<>(net::any_io_executor(io.get_executor()), "req-1"),
                    SeenIds(), net::use_future);
  auto second =
      net::co_spawn(RequestScopedExecutor<>(net::any_io_executor(io.get_executor()), "req-2"),
                    SeenIds(), net::use_future);
  const std::vector<std::string> seen_first = first.get();
  const std::vector<std::string> seen_second = second.get();
  work.reset();
  for (auto& t : threads) t.join();

  EXPECT_EQ(seen_first, std::vector<std::string>(6, "req-1"));
  EXPECT_EQ(seen_second, std::vector<std::string>(6, "req-2"));
  // Work outside the scoped executor has no request id.
  EXPECT_EQ(common::CurrentRequestId(), "");
}

}  // namespace
}  // namespace labelport::api
