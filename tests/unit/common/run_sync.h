// RunSync and RunOn: run a coroutine to completion on this thread and
// return its result, for tests of coroutine APIs.
//
//   absl::StatusOr<Items> items = RunSync(client.ListItems(...));
//   RunSync([&]() -> boost::asio::awaitable<void> { ... });
//   auto response = RunOn(io, client->Send(request));  // `client` runs on `io`
#ifndef LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_
#define LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <type_traits>
#include <utility>

namespace labelport::testing {

// Runs `task` on `io` (restarted first, so it may have run before) until
// `io` runs out of work; returns the task's result.
template <typename T>
T RunOn(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

// Runs `task` on an io_context of its own.
template <typename T>
T RunSync(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  return RunOn(io, std::move(task));
}

// Runs the coroutine `make_task()` starts (a lambda returning an awaitable,
// kept alive until it ends, as co_spawn takes it) on an io_context of its
// own.
template <typename MakeTask>
typename std::invoke_result_t<MakeTask&>::value_type RunSync(MakeTask make_task) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(make_task), boost::asio::use_future);
  io.run();
  return future.get();
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_
