#include "service/backend/darwin/v7_outage_wait.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace labelport::backend::darwin {
namespace {

boost::asio::awaitable<void> WaitFor(absl::Duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoMilliseconds(d));
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace

V7OutageWait::V7OutageWait(Probe probe, Options options)
    : probe_(std::move(probe)), options_(std::move(options)) {}

bool V7OutageWait::IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Duration V7OutageWait::DownTime() const {
  absl::MutexLock lock(&mu_);
  return down_ ? down_total_ + (absl::Now() - down_since_) : down_total_;
}

absl::Duration V7OutageWait::Jittered(absl::Duration backoff) {
  absl::MutexLock lock(&mu_);
  const double u = std::uniform_real_distribution<double>(0.0, 0.5)(random_);
  return backoff * (1.0 - u);
}

boost::asio::awaitable<absl::Status> V7OutageWait::ProbeShared() {
  {
    absl::MutexLock lock(&mu_);
    if (absl::Now() - probed_at_ < options_.probe_reuse) co_return probed_;
  }
  const absl::Status status = co_await probe_();
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  probed_at_ = now;
  probed_ = status;
  // Anything but a transient failure means V7 answered.
  const bool reachable = !IsTransient(status);
  if (!reachable && !down_) {
    down_ = true;
    down_since_ = now;
    gave_up_logged_ = false;
    common::LogWarning(absl::StrCat(options_.log_name, ": V7 cannot be reached (", status.message(),
                                    "); the upload waits and resumes when V7 answers (for up to ",
                                    absl::FormatDuration(options_.max_wait), ")"));
  } else if (reachable && down_) {
    down_ = false;
    up_since_ = now;
    down_total_ += now - down_since_;
    common::LogInfo(
        absl::StrCat(options_.log_name, ": V7 answers again after ",
                     absl::FormatDuration(absl::Trunc(now - down_since_, absl::Milliseconds(100))),
                     "; the upload resumes"));
  }
  co_return status;
}

boost::asio::awaitable<bool> V7OutageWait::ShouldRetry(absl::Status failure, absl::Time started,
                                                       int repeats) {
  if (!IsTransient(failure) || options_.max_wait <= absl::ZeroDuration()) co_return false;
  bool seen_down = false;
  {
    absl::MutexLock lock(&mu_);
    seen_down = down_;
  }
  absl::Status probe = co_await ProbeShared();
  if (probe.ok()) {
    absl::MutexLock lock(&mu_);
    co_return repeats == 0 || seen_down || down_ || up_since_ > started;
  }
  if (!IsTransient(probe)) co_return false;
  // V7 is down: wait until it answers, or give up `max_wait` after it went down.
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    absl::Time give_up;
    {
      absl::MutexLock lock(&mu_);
      if (!down_) co_return true;  // another step's probe saw it come back
      give_up = down_since_ + options_.max_wait;
    }
    const absl::Time now = absl::Now();
    if (now >= give_up) {
      bool first = false;
      {
        absl::MutexLock lock(&mu_);
        first = !gave_up_logged_;
        gave_up_logged_ = true;
      }
      if (first) {
        common::LogWarning(absl::StrCat(options_.log_name, ": V7 has not answered for ",
                                        absl::FormatDuration(options_.max_wait),
                                        "; the steps waiting for it fail: ", failure.message()));
      }
      co_return false;
    }
    co_await WaitFor(std::min(Jittered(backoff), give_up - now));
    backoff = std::min(options_.max_backoff, backoff * 2);
    probe = co_await ProbeShared();
    if (probe.ok()) co_return true;
    if (!IsTransient(probe)) co_return false;
  }
}

}  // namespace labelport::backend::darwin
