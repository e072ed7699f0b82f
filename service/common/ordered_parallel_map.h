// OrderedParallelMap: applies `work` to a sequence of inputs on the shared
// CpuPool and hands the results to `deliver` in input order, from the
// coroutine that pushes.
//
// Contract:
//  - `deliver` is awaited by the coroutine that calls Push / Finish, one
//    result at a time, in the order the inputs were pushed; it never runs
//    concurrently with itself. `work` runs on the pool's threads,
//    concurrently with other `work` calls and with `deliver`: it must be
//    thread-safe and must not throw.
//  - At most `window` inputs are pushed but not yet delivered (memory stays
//    bounded): Push awaits, delivering finished results, while the window is
//    full. No thread blocks: the coroutine is resumed when a result is ready.
//  - The first error `deliver` returns stops the map: results not yet
//    delivered are dropped, later Push calls return that error without doing
//    any work, and Finish returns it. Errors of `work` travel inside `Out`
//    (e.g. an absl::StatusOr) for `deliver` to return.
//  - Finish delivers every remaining result and returns the first error (or
//    OK); on an error it first waits for the work in flight. The map can be
//    pushed to again after a successful Finish.
//  - Drain waits for the work in flight and drops its results (after a
//    cancellation, or an exception out of `deliver`); the map must not be
//    used afterwards. The destructor blocks until the work in flight has
//    finished (a last resort: await Finish or Drain first).
//  - With a null pool, Push runs `work` and `deliver` inline.
// The waits for results are not cancellable (the work is short and must
// finish before its inputs go away); `deliver` sees the caller's
// cancellation as any coroutine does.
// Push, Finish and Drain must be awaited from one coroutine at a time.
#ifndef LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_
#define LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "service/common/cpu_pool.h"

namespace labelport::common {

template <typename In, typename Out>
class OrderedParallelMap {
 public:
  using Work = std::function<Out(In)>;
  using Deliver = std::function<boost::asio::awaitable<absl::Status>(Out)>;

  // `pool` (may be null: inline) must outlive the map.
  OrderedParallelMap(CpuPool* pool, int window, Work work, Deliver deliver)
      : pool_(pool),
        window_(std::max(1, window)),
        work_(std::move(work)),
        deliver_(std::move(deliver)),
        shared_(std::make_unique<Shared>()) {}

  OrderedParallelMap(const OrderedParallelMap&) = delete;
  OrderedParallelMap& operator=(const OrderedParallelMap&) = delete;

  ~OrderedParallelMap() {
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->idle.wait(lock, [s = shared_.get()] { return s->in_flight == 0; });
  }

  boost::asio::awaitable<absl::Status> Push(In input) {
    if (!status_.ok()) co_return status_;
    if (pool_ == nullptr) {
      status_ = co_await deliver_(work_(std::move(input)));
      co_return status_;
    }
    if (!shared_->wake) {
      shared_->wake.emplace(co_await boost::asio::this_coro::executor,
                            static_cast<size_t>(window_));
    }
    co_await DeliverReady(/*wait_for=*/pushed_ - delivered_ >= static_cast<uint64_t>(window_) ? 1
                                                                                              : 0);
    if (!status_.ok()) co_return status_;
    const uint64_t seq = pushed_++;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      ++shared_->in_flight;
    }
    // The task holds no reference to the map's state once it has said it is
    // done (the destructor waits for that): the wake-up channel, whose
    // service belongs to the caller's io_context, is never destroyed on a
    // pool thread.
    boost::asio::post(pool_->executor(), [shared = shared_.get(), work = &work_, seq,
                                          input = std::move(input)]() mutable {
      Out out = (*work)(std::move(input));
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->results.emplace(seq, std::move(out));
      // A full channel already holds a wake-up for the waiter.
      (void)shared->wake->try_send(boost::system::error_code());
      if (--shared->in_flight == 0) shared->idle.notify_all();
    });
    co_return absl::OkStatus();
  }

  boost::asio::awaitable<absl::Status> Finish() {
    if (pool_ != nullptr) {
      while (status_.ok() && delivered_ < pushed_) co_await DeliverReady(/*wait_for=*/1);
      if (!status_.ok()) co_await Drain();
    }
    co_return status_;
  }

  boost::asio::awaitable<void> Drain() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(shared_->mu);
        shared_->results.clear();
        if (shared_->in_flight == 0) break;
      }
      co_await WaitForResult();
    }
    delivered_ = pushed_;
  }

 private:
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees it even when
  // Abseil is not built with it.
  struct Shared {
    std::mutex mu;
    std::condition_variable idle;     // in_flight reached 0 (the destructor)
    int in_flight = 0;                // guarded by mu
    std::map<uint64_t, Out> results;  // guarded by mu
    // Signalled (from a pool thread) when a result is ready; created by the
    // first Push, on the pushing coroutine's executor.
    std::optional<boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>>
        wake;
  };

  boost::asio::awaitable<void> WaitForResult() {
    co_await shared_->wake->async_receive(boost::asio::bind_cancellation_slot(
        boost::asio::cancellation_slot(), boost::asio::as_tuple(boost::asio::use_awaitable)));
  }

  // Delivers the results that are ready in order; first waits until at
  // least `wait_for` of them can be delivered.
  boost::asio::awaitable<void> DeliverReady(int wait_for) {
    int delivered_now = 0;
    while (status_.ok()) {
      std::optional<Out> out;
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(shared_->mu);
          auto it = shared_->results.find(delivered_);
          if (it != shared_->results.end()) {
            out.emplace(std::move(it->second));
            shared_->results.erase(it);
          }
        }
        if (out.has_value() || delivered_now >= wait_for) break;
        co_await WaitForResult();
      }
      if (!out.has_value()) co_return;
      ++delivered_;
      ++delivered_now;
      status_ = co_await deliver_(*std::move(out));
    }
  }

  CpuPool* const pool_;
  const int window_;
  // Used by the work posted to the pool (the destructor waits for it).
  const Work work_;
  const Deliver deliver_;
  const std::unique_ptr<Shared> shared_;
  // Only touched by the pushing coroutine.
  absl::Status status_;
  uint64_t pushed_ = 0;
  uint64_t delivered_ = 0;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_
