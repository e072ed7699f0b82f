// CpuPool: the one bounded pool of threads for CPU-heavy work of the server
// (a load's export zip reading, Darwin JSON parsing and label merges). It is
// created once in the server wiring (--cpu_threads) and shared by every load,
// so CPU work never runs on an I/O thread and all loads together never use
// more than `threads` cores.
//
// Coroutines hand work to it with Run(): the function runs on a pool thread
// and the coroutine resumes on its own executor with the result. Run is not
// cancellable (a pool thread cannot be interrupted; the work is short); the
// awaiting coroutine's cancellation state is left as it is.
//
// Thread-safety: Run may be called from any thread. The destructor waits for
// the work already handed over, then joins the threads.
#ifndef LABELPORT_SERVICE_COMMON_CPU_POOL_H_
#define LABELPORT_SERVICE_COMMON_CPU_POOL_H_

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>
#include <type_traits>
#include <utility>

#include "service/common/await_on_pool.h"

namespace labelport::common {

// --cpu_threads' default: one thread per core (at least 1).
inline int DefaultCpuThreads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class CpuPool {
 public:
  // `threads` <= 0 means DefaultCpuThreads().
  explicit CpuPool(int threads)
      : threads_(threads > 0 ? threads : DefaultCpuThreads()),
        pool_(static_cast<size_t>(threads_)) {}
  ~CpuPool() { pool_.join(); }

  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  int threads() const { return threads_; }
  boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

  // Runs `fn()` on a pool thread; resumes the caller on its executor with
  // the result. `fn` must not throw; its result type must be
  // default-constructible and movable.
  template <typename Fn>
  boost::asio::awaitable<std::invoke_result_t<Fn&>> Run(Fn fn) {
    co_return co_await AwaitOnPool(pool_, std::move(fn));
  }

 private:
  const int threads_;
  boost::asio::thread_pool pool_;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_CPU_POOL_H_
