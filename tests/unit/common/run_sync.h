// RunSync: runs a coroutine to completion on an io_context of its own and
// returns its result, for tests of coroutine APIs that need no other I/O.
//
//   absl::StatusOr<Items> items = RunSync(client.ListItems(...));
#ifndef LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_
#define LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <utility>

namespace labelport::testing {

template <typename T>
T RunSync(boost::asio::awaitable<T> op) {
  boost::asio::io_context ctx;
  auto future = boost::asio::co_spawn(ctx, std::move(op), boost::asio::use_future);
  ctx.run();
  return future.get();
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_RUN_SYNC_H_
