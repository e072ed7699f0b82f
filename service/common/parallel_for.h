// ParallelFor: runs `body(i)` for i in [0, count) on at most `concurrency`
// coroutines at a time, and completes when all have finished.
// `body` must not throw (catch inside); it runs on `executor`.
// Not cancellable: a cancellation of the awaiting coroutine is not passed on
// to the bodies, which run on the other threads of the executor's
// io_context (where an Asio cancellation must not be emitted into them), and
// the call always waits for all of them.
#ifndef LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_
#define LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>

namespace labelport::common {

namespace parallel_for_internal {

// Wakes the awaiting coroutine when the last worker has finished, on
// whichever thread. (Not Asio's ranged parallel group: in Boost 1.81 it reads
// the workers' range and installs a handler in the awaiting coroutine's
// cancellation slot after starting them; when they all finish on other
// threads meanwhile, that coroutine has already resumed, freed the range and
// gone on to use its slot.)
struct Latch {
  Latch(const boost::asio::any_io_executor& executor, size_t workers)
      : left(workers), done(executor, 1) {}
  std::atomic<size_t> left;
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> done;
};

inline boost::asio::awaitable<void> Worker(
    std::shared_ptr<std::atomic<size_t>> next, size_t count,
    std::function<boost::asio::awaitable<void>(size_t)> body) {
  for (size_t i = next->fetch_add(1); i < count; i = next->fetch_add(1)) co_await body(i);
}

}  // namespace parallel_for_internal

inline boost::asio::awaitable<void> ParallelFor(
    size_t count, size_t concurrency, std::function<boost::asio::awaitable<void>(size_t)> body) {
  namespace internal = parallel_for_internal;
  if (count == 0) co_return;
  auto executor = co_await boost::asio::this_coro::executor;
  auto next = std::make_shared<std::atomic<size_t>>(0);
  const size_t workers = std::max<size_t>(1, std::min(concurrency, count));
  auto latch = std::make_shared<internal::Latch>(executor, workers);
  for (size_t w = 0; w < workers; ++w) {
    boost::asio::co_spawn(executor, internal::Worker(next, count, body),
                          [latch](const std::exception_ptr&) {
                            if (--latch->left == 0)
                              latch->done.try_send(boost::system::error_code{});
                          });
  }
  // The workers run `body`, whose captures may live in the caller's frame:
  // wait for them even when the caller was cancelled (no slot, no throw).
  const bool throws = co_await boost::asio::this_coro::throw_if_cancelled();
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  co_await latch->done.async_receive(boost::asio::bind_cancellation_slot(
      boost::asio::cancellation_slot(), boost::asio::as_tuple(boost::asio::use_awaitable)));
  co_await boost::asio::this_coro::throw_if_cancelled(throws);
}

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_
