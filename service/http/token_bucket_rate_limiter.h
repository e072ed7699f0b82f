// TokenBucketRateLimiter: client-side request rate limit per key, so that
// labelport stays under V7's published limit (1000 requests/minute per API
// key) instead of running into 429s, and slows down when it runs into them
// all the same.
//
// Keys are opaque strings chosen by the caller. Callers must NOT pass secrets:
// pass a digest of the API key (e.g. hex SHA-256) or another stable id. The
// limiter keeps keys in memory while they have pending reservations or are
// recovering from a 429.
//
// Each key has a bucket of `burst` tokens (full at first) refilled at
// `requests_per_minute`. Acquire() takes a token, waiting (asio steady_timer,
// no thread blocked) until one is free. Waiters are served in FIFO order: each
// call reserves the next token when it is made (the bucket goes into debt),
// so a later caller never overtakes an earlier one. A waiter that is
// abandoned (its coroutine destroyed) still consumes its slot.
//
// 429s (OnThrottled): the server says this key is over its limit, so the
// limiter's idea of the limit was too generous (another client shares the
// key, the server counts differently, a replica died with its share). For
// that key:
//   * Retry-After is honoured by every request of the key: no token is handed
//     out before it has passed (capped at `max_retry_after`), and waiters
//     that reserved a slot before the 429 queue again behind it;
//   * the bucket is emptied (no burst right after a 429);
//   * the rate is multiplied by `throttle_decrease` (at most once per
//     episode: 429s of requests admitted before the last decrease were
//     caused by the old rate and do not decrease it again), never below
//     `min_rate_fraction` of the configured rate;
//   * it then climbs back linearly, by the configured rate per
//     `throttle_recovery` (additive increase), to the configured rate.
//
// Rate and burst can be changed while the limiter is in use (SetRate), e.g.
// when the replicas sharing one API key come and go: slots already reserved
// keep their times, later ones follow the new settings (and any 429
// slow-down still in force, as a fraction of the new rate).
// Waits are reported to `Options::metrics` when set.
//
// Thread-safe: may be called from coroutines on a multi-threaded io_context.
#ifndef LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_
#define LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
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
  using Clock = std::chrono::steady_clock;

  struct Options {
    // Sustained rate per key; > 0.
    double requests_per_minute = 1000;
    // Tokens available at once (bucket capacity); >= 1.
    int burst = 20;
    // After a 429: the rate is multiplied by this, in (0, 1) ...
    double throttle_decrease = 0.5;
    // ... but never below this fraction of the configured rate, in (0, 1].
    double min_rate_fraction = 1.0 / 16;
    // ... and climbs back by the configured rate per this long (> 0): from
    // half the rate to the full rate in half of it.
    absl::Duration throttle_recovery = absl::Seconds(60);
    // The longest Retry-After honoured (longer values are cut to it).
    absl::Duration max_retry_after = absl::Minutes(5);
    // Receives RecordRateLimiterWait for every token that waits; may be null.
    // Must outlive the limiter.
    common::Metrics* metrics = nullptr;
    // The clock of reservations (tests give a fake one; TryAcquire and
    // OnThrottled then follow it, and Acquire's timers still use the steady
    // clock). Null: Clock::now.
    std::function<Clock::time_point()> now = nullptr;
  };

  struct Stats {
    int64_t acquired = 0;       // tokens handed out (Acquire + TryAcquire)
    int64_t waits = 0;          // reservations that had to wait
    absl::Duration total_wait;  // sum of those waits
    int64_t throttles = 0;      // OnThrottled calls
  };

  // INVALID_ARGUMENT for a non-positive rate or burst, or throttle settings
  // out of their ranges.
  static absl::StatusOr<std::unique_ptr<TokenBucketRateLimiter>> Create(Options options);

  // Takes a token for `key`, waiting until one is free. Runs on the calling
  // coroutine's executor.
  boost::asio::awaitable<void> Acquire(std::string key);

  // Takes a token for `key` if one is free now (and nobody is queued);
  // never waits.
  bool TryAcquire(absl::string_view key);

  // The server answered 429 (rate limited) to a request of `key` whose token
  // was handed out at `admitted_at` (Now() after Acquire); `retry_after` is
  // its Retry-After, if any. See the class comment.
  void OnThrottled(absl::string_view key, std::optional<absl::Duration> retry_after,
                   Clock::time_point admitted_at);

  // The limiter's clock (Options::now).
  Clock::time_point Now() const { return now_(); }

  Stats stats() const;

  // Changes the sustained rate of every key to `requests_per_minute` (> 0)
  // and, when given, the burst (>= 1). INVALID_ARGUMENT, and nothing
  // changes, for other values.
  absl::Status SetRate(double requests_per_minute, std::optional<int> burst = std::nullopt);
  absl::Status SetRequestsPerMinute(double requests_per_minute) {
    return SetRate(requests_per_minute);
  }
  // The configured rate (before any 429 slow-down) and burst.
  double requests_per_minute() const;
  int burst() const;
  // The rate `key` gets now: the configured rate, or less while it recovers
  // from a 429.
  double requests_per_minute(absl::string_view key) const;

 private:
  // One key's bucket and 429 state.
  struct KeyState {
    // Tokens in the bucket at `updated_at` (at most the burst; negative:
    // slots reserved ahead by waiters).
    double tokens = 0;
    // When `tokens` was last brought up to date; after a 429 with
    // Retry-After, in the future (the bucket refills from then on).
    Clock::time_point updated_at;
    // The rate fraction right after the last decrease, and when that was
    // (min(): never).
    double fraction = 1.0;
    Clock::time_point decreased_at = Clock::time_point::min();
    // No token before this (Retry-After).
    Clock::time_point resume_at = Clock::time_point::min();
    // Bumped when a 429 empties the bucket: slots reserved before are void.
    uint64_t epoch = 0;
  };
  struct Reservation {
    Clock::time_point usable_at;
    uint64_t epoch = 0;
  };

  explicit TokenBucketRateLimiter(Options options);

  // The rate fraction of `state` at `t` (1 when fully recovered).
  double FractionAt(const KeyState& state, Clock::time_point t) const;
  // The tokens `state` gains from `from` to `to` (the rate integrated over
  // the recovery).
  double RefillBetween(const KeyState& state, Clock::time_point from, Clock::time_point to) const;
  // `state.tokens` at `now` (capped at the burst); `state` unchanged.
  double TokensAt(const KeyState& state, Clock::time_point now) const;
  // The state of `key` (a full bucket when new) with its tokens brought up
  // to `now`. Called with mu_ held.
  KeyState& StateAt(absl::string_view key, Clock::time_point now);
  // Reserves the next slot for `key`; returns when it may be used.
  // `only_if_free`: reserve only when usable now (returns nullopt otherwise).
  std::optional<Reservation> Reserve(absl::string_view key, bool only_if_free, bool count);
  // Whether a slot reserved under `epoch` must be reserved again (a 429
  // came meanwhile, or Retry-After still holds).
  bool MustRequeue(const std::string& key, uint64_t epoch) const;

  const Options options_;
  common::Metrics* const metrics_;  // Options::metrics; may be null
  const std::function<Clock::time_point()> now_;

  mutable std::mutex mu_;
  double requests_per_minute_;
  int burst_;
  absl::flat_hash_map<std::string, KeyState> keys_;
  Stats stats_;
  int64_t reservations_since_prune_ = 0;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_TOKEN_BUCKET_RATE_LIMITER_H_
