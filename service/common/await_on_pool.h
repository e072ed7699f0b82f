// AwaitOnPool: runs a blocking call (a store call) on a bounded thread pool
// and resumes the awaiting coroutine on its own executor with the result, so
// that an I/O thread never blocks on it. The pool bounds how many such calls
// run at once; the others wait in its queue.
//
// A store call is not cancellable: a cancellation of the awaiting coroutine
// is not passed on (the call runs to its end; the coroutine sees the
// cancellation at its next co_await). Passing it on would install Asio's
// co_spawn cancellation handler in the coroutine's slot, which posts to the
// pool a pointer into that slot: freed once the coroutine resumed, so a
// cancellation that arrives as the call completes would be emitted into
// freed memory (the bug BeastHttpClient and ParallelFor avoid the same way).
//
// (Not a coroutine itself, and callers pass a named callable: GCC 12 may
// destroy a temporary closure in a co_await expression twice.)
#ifndef LABELPORT_SERVICE_COMMON_AWAIT_ON_POOL_H_
#define LABELPORT_SERVICE_COMMON_AWAIT_ON_POOL_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace labelport::common {

// `call` must not throw; its result (absl::Status, absl::StatusOr<T>) is
// moved to the awaiting coroutine. `pool` must outlive the call.
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> AwaitOnPool(boost::asio::thread_pool& pool,
                                                             F call) {
  using Result = std::invoke_result_t<F&>;
  return boost::asio::co_spawn(
      pool.get_executor(),
      [call = std::move(call)]() mutable -> boost::asio::awaitable<Result> { co_return call(); },
      boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                          boost::asio::use_awaitable));
}

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_AWAIT_ON_POOL_H_
