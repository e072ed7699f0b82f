#include "service/http/retry_loop.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace labelport::http {

RetryLoop::RetryLoop(RetryPolicy policy, Hooks hooks)
    : policy_(std::move(policy)), hooks_(std::move(hooks)), rng_(std::random_device{}()) {
  if (absl::Status valid = policy_.Validate(); !valid.ok()) {
    common::LogError(absl::StrCat("RetryLoop: ", valid.message(), "; retries disabled"));
    policy_ = RetryPolicy{};
    policy_.max_attempts = 1;
  }
}

absl::Time RetryLoop::Now() const { return hooks_.now ? hooks_.now() : absl::Now(); }

RetryLoop::Stats RetryLoop::stats() const {
  return Stats{steps_.load(), attempts_.load(), retries_.load(), gave_up_.load()};
}

double RetryLoop::Uniform01() {
  if (hooks_.uniform01) return hooks_.uniform01();
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

boost::asio::awaitable<void> RetryLoop::Sleep(absl::Duration delay) {
  if (hooks_.sleep) {
    co_await hooks_.sleep(delay);
    co_return;
  }
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoNanoseconds(delay));
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

void RetryLoop::Report(bool again, int attempt, const std::string& method, const std::string& url,
                       int http_status, absl::Status error, absl::Duration delay) {
  if (!again) ++gave_up_;
  if (!hooks_.on_event) return;
  RetryEvent event;
  event.kind = again ? RetryEvent::Kind::kRetry : RetryEvent::Kind::kGiveUp;
  event.attempt = attempt;
  event.method = method;
  event.url = url;
  event.http_status = http_status;
  event.error = std::move(error);
  event.delay = delay;
  hooks_.on_event(event);
}

}  // namespace labelport::http
