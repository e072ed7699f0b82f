// TokenBucketRateLimiter: client-side request rate limit per key, so that
// labelport stays under V7's published limit (1000 requests/minute per API
// key) instead of running into 429s.
//
// Keys are opaque strings chosen by the caller. Callers must NOT pass secrets:
// pass a digest of the API key (e.g. hex SHA-256) or another stable id. The
// limiter keeps keys in memory for as long as they have pending reservations.
//
// Each key has a bucket of `burst` tokens refilled at `requests_per_minute`.
// Acquire() takes a token, waiting (asio steady_timer, no thread blocked)
// until one is free. Waiters are served in FIFO order: each call reserves the
// next free slot when it is made (generic cell rate algorithm), so a later
// caller never overtakes an earlier one. A waiter that is abandoned (its
// coroutine destroyed) still consumes its slot.
//
// Rate and burst can be changed while the limiter is in use (SetRate), e.g.
// when the replicas sharing one API key come and go: slots already reserved
// keep their times, later ones follow the new settings.
// Waits are reported to `Options::metrics` when set.
//
// Thread-safe: may be called from coroutines on a multi-threaded io_context.
#ifndef LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_
#define LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/metrics.h"

namespace labelport::http {

class TokenBucketRateLimiter {
 public:
  struct Options {
    // Sustained rate per key; > 0.
    double requests_per_minute = 1000;
    // Tokens available at once (bucket capacity); >= 1.
    int burst = 20;
    // Receives RecordRateLimiterWait for every token that waits; may be null.
    // Must outlive the limiter.
    common::Metrics* metrics = nullptr;
  };

  struct Stats {
    int64_t acquired = 0;       // tokens handed out (Acquire + TryAcquire)
    int64_t waits = 0;          // Acquire calls that had to wait
    absl::Duration total_wait;  // sum of those waits
  };

  // INVALID_ARGUMENT for a non-positive rate or burst.
  static absl::StatusOr<std::unique_ptr<TokenBucketRateLimiter>> Create(Options options);

  // Takes a token for `key`, waiting until one is free. Runs on the calling
  // coroutine's executor.
  boost::asio::awaitable<void> Acquire(std::string key);

  // Takes a token for `key` if one is free now (and nobody is queued);
  // never waits.
  bool TryAcquire(absl::string_view key);

  Stats stats() const;

  // Changes the sustained rate of every key to `requests_per_minute` (> 0)
  // and, when given, the burst (>= 1). INVALID_ARGUMENT, and nothing
  // changes, for other values.
  absl::Status SetRate(double requests_per_minute, std::optional<int> burst = std::nullopt);
  absl::Status SetRequestsPerMinute(double requests_per_minute) {
    return SetRate(requests_per_minute);
  }
  double requests_per_minute() const;
  int burst() const;

 private:
  using Clock = std::chrono::steady_clock;

  explicit TokenBucketRateLimiter(Options options);

  // Reserves the next slot for `key`; returns when it may be used.
  // `only_if_free`: reserve only when usable now (returns nullopt otherwise).
  std::optional<Clock::time_point> Reserve(absl::string_view key, bool only_if_free);

  common::Metrics* const metrics_;  // Options::metrics; may be null

  mutable std::mutex mu_;
  double requests_per_minute_;
  int burst_;
  Clock::duration interval_;   // time between tokens
  Clock::duration tolerance_;  // (burst - 1) * interval_
  // Per key: the theoretical arrival time of the next request (GCRA).
  absl::flat_hash_map<std::string, Clock::time_point> next_;
  Stats stats_;
  int64_t reservations_since_prune_ = 0;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_
