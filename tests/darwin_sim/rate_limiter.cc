#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace labelport::darwin_sim {

int64_t RateLimiter::Acquire(const std::string& key, int64_t per_minute, Clock::time_point now) {
  if (per_minute <= 0) return 0;
  absl::MutexLock lock(&mu_);
  const double capacity = static_cast<double>(per_minute);
  const double per_second = capacity / 60.0;
  auto [it, inserted] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = capacity;
    b.last = now;
  }
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(capacity, b.tokens + elapsed * per_second);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - b.tokens) / per_second;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)));
}

void RateLimiter::Clear() {
  absl::MutexLock lock(&mu_);
  buckets_.clear();
}

}  // namespace labelport::darwin_sim
