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

std::chrono::steady_clock::duration IntervalOf(double requests_per_minute) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(60.0 / requests_per_minute));
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
  return std::unique_ptr<TokenBucketRateLimiter>(new TokenBucketRateLimiter(options));
}

TokenBucketRateLimiter::TokenBucketRateLimiter(Options options)
    : metrics_(options.metrics),
      requests_per_minute_(options.requests_per_minute),
      burst_(options.burst),
      interval_(IntervalOf(options.requests_per_minute)),
      tolerance_(interval_ * (options.burst - 1)) {}

absl::Status TokenBucketRateLimiter::SetRate(double requests_per_minute, std::optional<int> burst) {
  if (absl::Status s = ValidateRate(requests_per_minute, burst.value_or(1)); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  requests_per_minute_ = requests_per_minute;
  if (burst.has_value()) burst_ = *burst;
  interval_ = IntervalOf(requests_per_minute);
  tolerance_ = interval_ * (burst_ - 1);
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

std::optional<TokenBucketRateLimiter::Clock::time_point> TokenBucketRateLimiter::Reserve(
    absl::string_view key, bool only_if_free) {
  const Clock::time_point now = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  // Keys whose bucket is full again carry no state worth keeping.
  if (++reservations_since_prune_ >= 1024) {
    reservations_since_prune_ = 0;
    absl::erase_if(next_, [now](const auto& entry) { return entry.second <= now; });
  }
  auto [it, inserted] = next_.try_emplace(std::string(key), now);
  const Clock::time_point tat = std::max(it->second, now);
  const Clock::time_point usable_at = tat - tolerance_;
  if (only_if_free && usable_at > now) return std::nullopt;
  it->second = tat + interval_;
  ++stats_.acquired;
  if (usable_at > now) {
    const absl::Duration wait = absl::FromChrono(usable_at - now);
    ++stats_.waits;
    stats_.total_wait += wait;
    lock.unlock();
    if (metrics_ != nullptr) metrics_->RecordRateLimiterWait(wait);
  }
  return usable_at;
}

boost::asio::awaitable<void> TokenBucketRateLimiter::Acquire(std::string key) {
  const Clock::time_point usable_at = *Reserve(key, /*only_if_free=*/false);
  if (usable_at <= Clock::now()) co_return;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_at(usable_at);
  // The slot is ours whether the wait completes or is cancelled.
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

bool TokenBucketRateLimiter::TryAcquire(absl::string_view key) {
  return Reserve(key, /*only_if_free=*/true).has_value();
}

TokenBucketRateLimiter::Stats TokenBucketRateLimiter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace labelport::http
