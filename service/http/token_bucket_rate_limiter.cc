#include "service/http/token_bucket_rate_limiter.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::http {

namespace {

using Clock = TokenBucketRateLimiter::Clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Clock::duration FromSeconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// The rules of Create and SetRate: a positive rate and a burst of at least 1.
absl::Status ValidateRate(double requests_per_minute, int burst) {
  if (!(requests_per_minute > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate limiter: requests_per_minute must be > 0, got ", requests_per_minute));
  }
  if (burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate limiter: burst must be >= 1, got ", burst));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenBucketRateLimiter>> TokenBucketRateLimiter::Create(
    Options options) {
  if (absl::Status s = ValidateRate(options.requests_per_minute, options.burst); !s.ok()) return s;
  if (!(options.throttle_decrease > 0 && options.throttle_decrease < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate limiter: throttle_decrease must be in (0, 1), got ", options.throttle_decrease));
  }
  if (!(options.min_rate_fraction > 0 && options.min_rate_fraction <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rate limiter: min_rate_fraction must be in (0, 1], got ", options.min_rate_fraction));
  }
  if (options.throttle_recovery <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("rate limiter: throttle_recovery must be positive");
  }
  if (options.max_retry_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("rate limiter: max_retry_after must not be negative");
  }
  return std::unique_ptr<TokenBucketRateLimiter>(new TokenBucketRateLimiter(std::move(options)));
}

TokenBucketRateLimiter::TokenBucketRateLimiter(Options options)
    : options_(std::move(options)),
      metrics_(options_.metrics),
      now_(options_.now ? options_.now : [] { return Clock::now(); }),
      requests_per_minute_(options_.requests_per_minute),
      burst_(options_.burst) {}

absl::Status TokenBucketRateLimiter::SetRate(double requests_per_minute, std::optional<int> burst) {
  if (absl::Status s = ValidateRate(requests_per_minute, burst.value_or(1)); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  requests_per_minute_ = requests_per_minute;
  if (burst.has_value()) burst_ = *burst;
  return absl::OkStatus();
}

int TokenBucketRateLimiter::burst() const {
  std::lock_guard<std::mutex> lock(mu_);
  return burst_;
}

double TokenBucketRateLimiter::requests_per_minute() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_per_minute_;
}

double TokenBucketRateLimiter::requests_per_minute(absl::string_view key) const {
  const Clock::time_point now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key);
  const double fraction = it == keys_.end() ? 1.0 : FractionAt(it->second, now);
  return requests_per_minute_ * fraction;
}

double TokenBucketRateLimiter::FractionAt(const KeyState& state, Clock::time_point t) const {
  if (state.fraction >= 1.0) return 1.0;
  const double since = std::max(0.0, Seconds(t - state.decreased_at));
  return std::min(1.0, state.fraction + since / absl::ToDoubleSeconds(options_.throttle_recovery));
}

double TokenBucketRateLimiter::RefillBetween(const KeyState& state, Clock::time_point from,
                                             Clock::time_point to) const {
  if (to <= from) return 0;
  const double per_second = requests_per_minute_ / 60.0;
  if (state.fraction >= 1.0) return per_second * Seconds(to - from);
  // The fraction grows linearly until it reaches 1 at `recovered`.
  const Clock::time_point recovered =
      state.decreased_at +
      FromSeconds((1.0 - state.fraction) * absl::ToDoubleSeconds(options_.throttle_recovery));
  double fraction_seconds = 0;
  if (from < recovered) {
    const Clock::time_point end = std::min(to, recovered);
    fraction_seconds +=
        Seconds(end - from) * (FractionAt(state, from) + FractionAt(state, end)) / 2;
  }
  if (to > recovered) fraction_seconds += Seconds(to - std::max(from, recovered));
  return per_second * fraction_seconds;
}

double TokenBucketRateLimiter::TokensAt(const KeyState& state, Clock::time_point now) const {
  return std::min(static_cast<double>(burst_),
                  state.tokens + RefillBetween(state, state.updated_at, now));
}

TokenBucketRateLimiter::KeyState& TokenBucketRateLimiter::StateAt(absl::string_view key,
                                                                  Clock::time_point now) {
  auto [it, inserted] = keys_.try_emplace(std::string(key));
  KeyState& state = it->second;
  if (inserted) {
    state.tokens = burst_;
    state.updated_at = now;
  }
  if (now > state.updated_at) {
    state.tokens = TokensAt(state, now);
    state.updated_at = now;
  }
  return state;
}

std::optional<TokenBucketRateLimiter::Reservation> TokenBucketRateLimiter::Reserve(
    absl::string_view key, bool only_if_free, bool count) {
  const Clock::time_point now = now_();
  std::unique_lock<std::mutex> lock(mu_);
  // Keys whose bucket is full again and that are not slowed down carry no
  // state worth keeping.
  if (++reservations_since_prune_ >= 1024) {
    reservations_since_prune_ = 0;
    absl::erase_if(keys_, [&](const auto& entry) {
      const KeyState& s = entry.second;
      return s.updated_at <= now && s.resume_at <= now && FractionAt(s, now) >= 1.0 &&
             TokensAt(s, now) >= burst_;
    });
  }
  KeyState& state = StateAt(key, now);
  const Clock::time_point start = std::max(now, state.updated_at);
  if (only_if_free && (start > now || state.resume_at > now || state.tokens < 1)) {
    return std::nullopt;
  }
  state.tokens -= 1;
  Clock::time_point usable_at = start;
  if (state.tokens < 0) {
    // In debt: usable once the refill (at the rate of `start`; it only
    // grows later) has paid it back.
    usable_at +=
        FromSeconds(-state.tokens / (requests_per_minute_ / 60.0 * FractionAt(state, start)));
  }
  usable_at = std::max(usable_at, state.resume_at);
  if (count) ++stats_.acquired;
  const Reservation reservation{.usable_at = usable_at, .epoch = state.epoch};
  if (usable_at > now) {
    const absl::Duration wait = absl::FromChrono(usable_at - now);
    ++stats_.waits;
    stats_.total_wait += wait;
    lock.unlock();
    if (metrics_ != nullptr) metrics_->RecordRateLimiterWait(wait);
  }
  return reservation;
}

bool TokenBucketRateLimiter::MustRequeue(const std::string& key, uint64_t epoch) const {
  const Clock::time_point now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return false;
  return it->second.epoch != epoch || it->second.resume_at > now;
}

void TokenBucketRateLimiter::OnThrottled(absl::string_view key,
                                         std::optional<absl::Duration> retry_after,
                                         Clock::time_point admitted_at) {
  const Clock::time_point now = now_();
  const absl::Duration hold = std::clamp(retry_after.value_or(absl::ZeroDuration()),
                                         absl::ZeroDuration(), options_.max_retry_after);
  const Clock::time_point resume =
      now + std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(hold));
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.throttles;
  KeyState& state = StateAt(key, now);
  state.resume_at = std::max(state.resume_at, resume);
  if (admitted_at >= state.decreased_at) {
    // A request sent at the current rate was refused: slow down, and start
    // from an empty bucket when sending resumes. Slots reserved before are
    // void; their waiters queue again (MustRequeue).
    state.fraction =
        std::max(options_.min_rate_fraction, FractionAt(state, now) * options_.throttle_decrease);
    state.decreased_at = now;
    ++state.epoch;
    state.tokens = 0;
    state.updated_at = std::max(now, state.resume_at);
  } else if (state.resume_at > state.updated_at) {
    // A request sent before the last decrease: only its Retry-After counts.
    state.tokens = std::min(state.tokens, 0.0);
    state.updated_at = state.resume_at;
  }
}

boost::asio::awaitable<void> TokenBucketRateLimiter::Acquire(std::string key) {
  bool counted = false;
  while (true) {
    const Reservation reservation = *Reserve(key, /*only_if_free=*/false, /*count=*/!counted);
    counted = true;
    const Clock::duration wait = reservation.usable_at - now_();
    if (wait > Clock::duration::zero()) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(wait);
      // The slot is ours whether the wait completes or is cancelled.
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    if (!MustRequeue(key, reservation.epoch)) co_return;
  }
}

bool TokenBucketRateLimiter::TryAcquire(absl::string_view key) {
  return Reserve(key, /*only_if_free=*/true, /*count=*/true).has_value();
}

TokenBucketRateLimiter::Stats TokenBucketRateLimiter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace labelport::http
