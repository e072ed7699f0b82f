// OrderedParallelMap: applies `work` to a sequence of inputs on a few worker
// threads and hands the results to `deliver` in input order.
//
// Contract:
//  - `deliver` runs on the thread that calls Push / Finish, one result at a
//    time, in the order the inputs were pushed; it never runs concurrently
//    with itself. `work` runs on the worker threads, concurrently with other
//    `work` calls and with `deliver`: it must be thread-safe.
//  - At most `window` inputs are pushed but not yet delivered (memory stays
//    bounded): Push blocks, delivering finished results, while the window is
//    full.
//  - The first error `deliver` returns stops the map: results not yet
//    delivered are dropped, later Push calls return that error without doing
//    any work, and Finish returns it. Errors of `work` travel inside `Out`
//    (e.g. an absl::StatusOr) for `deliver` to return.
//  - Finish delivers every remaining result and returns the first error (or
//    OK). The destructor stops and joins the workers; undelivered results are
//    dropped.
//  - With `threads` <= 1 there are no worker threads: Push runs `work` and
//    `deliver` inline.
// Push and Finish must be called from one thread at a time.
#ifndef LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_
#define LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace labelport::common {

// Worker threads for CPU work that should use the machine without taking
// it over: min(4, hardware threads), at least 1.
inline int DefaultParallelism() {
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
}

template <typename In, typename Out>
class OrderedParallelMap {
 public:
  using Work = std::function<Out(In)>;
  using Deliver = std::function<absl::Status(Out)>;

  OrderedParallelMap(int threads, int window, Work work, Deliver deliver)
      : window_(std::max(1, window)), work_(std::move(work)), deliver_(std::move(deliver)) {
    for (int i = 0; i < threads && threads > 1; ++i)
      workers_.emplace_back([this] { WorkerLoop(); });
  }

  OrderedParallelMap(const OrderedParallelMap&) = delete;
  OrderedParallelMap& operator=(const OrderedParallelMap&) = delete;

  ~OrderedParallelMap() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (auto& t : workers_) t.join();
  }

  absl::Status Push(In input) {
    if (!status_.ok()) return status_;
    if (workers_.empty()) {
      status_ = deliver_(work_(std::move(input)));
      return status_;
    }
    DeliverReady(/*wait_for=*/pushed_ - delivered_ >= static_cast<uint64_t>(window_) ? 1 : 0);
    if (!status_.ok()) return status_;
    absl::MutexLock lock(&mu_);
    inputs_.emplace_back(pushed_++, std::move(input));
    return absl::OkStatus();
  }

  absl::Status Finish() {
    if (!workers_.empty())
      while (status_.ok() && delivered_ < pushed_) DeliverReady(/*wait_for=*/1);
    return status_;
  }

 private:
  // Delivers the results that are ready in order; first waits until at
  // least `wait_for` of them can be delivered.
  void DeliverReady(int wait_for) {
    int delivered_now = 0;
    while (status_.ok()) {
      std::optional<Out> out;
      {
        absl::MutexLock lock(&mu_);
        const uint64_t next = delivered_;
        auto ready = [this, next] { return results_.count(next) > 0; };
        if (delivered_now < wait_for) {
          mu_.Await(absl::Condition(&ready));
        } else if (!ready()) {
          return;
        }
        auto it = results_.find(next);
        out.emplace(std::move(it->second));
        results_.erase(it);
      }
      ++delivered_;
      ++delivered_now;
      status_ = deliver_(*std::move(out));
    }
  }

  void WorkerLoop() {
    for (;;) {
      std::pair<uint64_t, In> job;
      {
        absl::MutexLock lock(&mu_);
        auto has_job = [this] { return stopping_ || !inputs_.empty(); };
        mu_.Await(absl::Condition(&has_job));
        if (stopping_) return;
        job = std::move(inputs_.front());
        inputs_.pop_front();
      }
      Out out = work_(std::move(job.second));
      absl::MutexLock lock(&mu_);
      results_.emplace(job.first, std::move(out));
    }
  }

  const int window_;
  const Work work_;
  const Deliver deliver_;
  std::vector<std::thread> workers_;
  // Only touched by the pushing thread.
  absl::Status status_;
  uint64_t pushed_ = 0;
  uint64_t delivered_ = 0;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::pair<uint64_t, In>> inputs_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Out> results_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_ORDERED_PARALLEL_MAP_H_
