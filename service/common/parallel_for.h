// ParallelFor: runs `body(i)` for i in [0, count) on at most `concurrency`
// coroutines at a time, and completes when all have finished.
// `body` must not throw (catch inside); it runs on `executor`.
#ifndef LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_
#define LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace labelport::common {

inline boost::asio::awaitable<void> ParallelFor(
    size_t count, size_t concurrency, std::function<boost::asio::awaitable<void>(size_t)> body) {
  if (count == 0) co_return;
  auto executor = co_await boost::asio::this_coro::executor;
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto worker = [next, count, body]() -> boost::asio::awaitable<void> {
    for (size_t i = next->fetch_add(1); i < count; i = next->fetch_add(1)) co_await body(i);
  };
  using Op = decltype(boost::asio::co_spawn(executor, worker(), boost::asio::deferred));
  std::vector<Op> ops;
  const size_t workers = std::max<size_t>(1, std::min(concurrency, count));
  ops.reserve(workers);
  for (size_t w = 0; w < workers; ++w)
    ops.push_back(boost::asio::co_spawn(executor, worker(), boost::asio::deferred));
  co_await boost::asio::experimental::make_parallel_group(std::move(ops))
      .async_wait(boost::asio::experimental::wait_for_all(), boost::asio::use_awaitable);
}

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_PARALLEL_FOR_H_
