// RateLimiter: a token bucket per API key (capacity = the per-minute limit,
// refilled continuously), as V7 enforces 1000 requests/minute. Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_RATE_LIMITER_H_
#define LABELPORT_TESTS_DARWIN_SIM_RATE_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace labelport::darwin_sim {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes one token for `key` under a limit of `per_minute` (<= 0: no limit).
  // Returns 0 when allowed, otherwise the whole seconds (>= 1) until a token
  // is available, for the Retry-After header.
  int64_t Acquire(const std::string& key, int64_t per_minute, Clock::time_point now);
  void Clear();

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  absl::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_RATE_LIMITER_H_
