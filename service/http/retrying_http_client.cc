#include "service/http/retrying_http_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <utility>

#include "service/common/log.h"
#include "service/http/url.h"

namespace labelport::http {

RetryingHttpClient::RetryingHttpClient(HttpClient* inner, RetryPolicy policy, Hooks hooks)
    : inner_(inner),
      policy_(std::move(policy)),
      hooks_(std::move(hooks)),
      rng_(std::random_device{}()) {
  if (absl::Status valid = policy_.Validate(); !valid.ok()) {
    common::LogError(absl::StrCat("RetryingHttpClient: ", valid.message(), "; retries disabled"));
    policy_ = RetryPolicy{};
    policy_.max_attempts = 1;
  }
}

absl::Time RetryingHttpClient::Now() const { return hooks_.now ? hooks_.now() : absl::Now(); }

double RetryingHttpClient::Uniform01() {
  if (hooks_.uniform01) return hooks_.uniform01();
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

boost::asio::awaitable<void> RetryingHttpClient::Sleep(absl::Duration delay) {
  if (hooks_.sleep) {
    co_await hooks_.sleep(delay);
    co_return;
  }
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoNanoseconds(delay));
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

RetryingHttpClient::Stats RetryingHttpClient::stats() const {
  return Stats{requests_.load(), attempts_.load(), retries_.load(), gave_up_.load()};
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RetryingHttpClient::Send(
    HttpRequest request, int64_t max_response_bytes) {
  Attempt attempt = [this, max_response_bytes](
                        HttpRequest r,
                        bool& may_retry) -> boost::asio::awaitable<absl::StatusOr<HttpResponse>> {
    may_retry = true;
    co_return co_await inner_->Send(std::move(r), max_response_bytes);
  };
  co_return co_await Run(std::move(request), attempt);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RetryingHttpClient::SendStreaming(
    HttpRequest request, BodyChunkSink sink) {
  Attempt attempt = [this, &sink](
                        HttpRequest r,
                        bool& may_retry) -> boost::asio::awaitable<absl::StatusOr<HttpResponse>> {
    auto sink_called = std::make_shared<bool>(false);
    BodyChunkSink counting = [&sink, sink_called](absl::string_view chunk) {
      *sink_called = true;
      return sink(chunk);
    };
    auto result = co_await inner_->SendStreaming(std::move(r), std::move(counting));
    may_retry = !*sink_called;
    co_return result;
  };
  co_return co_await Run(std::move(request), attempt);
}

boost::asio::awaitable<absl::StatusOr<HttpResponse>> RetryingHttpClient::Run(
    HttpRequest request, const Attempt& attempt) {
  ++requests_;
  const absl::Time overall_deadline = request.deadline;
  const bool idempotent = request.idempotent;
  for (int n = 1;; ++n) {
    HttpRequest this_attempt = request;
    if (policy_.per_attempt_timeout != absl::InfiniteDuration()) {
      this_attempt.deadline = std::min(overall_deadline, Now() + policy_.per_attempt_timeout);
    }
    ++attempts_;
    if (n > 1) ++retries_;
    bool may_retry = false;
    absl::StatusOr<HttpResponse> result = co_await attempt(std::move(this_attempt), may_retry);

    bool retryable = false;
    std::optional<absl::Duration> retry_after;
    if (result.ok()) {
      retryable = IsRetryableHttpStatus(result->status, idempotent) &&
                  !(policy_.is_permanent && policy_.is_permanent(*result));
      if (retryable) {
        if (auto header = result->Header("Retry-After")) {
          retry_after = ParseRetryAfter(*header, Now());
        }
      }
    } else {
      retryable = IsRetryableError(result.status(), idempotent);
    }
    if (!retryable) co_return result;

    RetryEvent event;
    event.attempt = n;
    event.method = request.method;
    event.url = RedactedUrl(request.url);
    if (result.ok()) {
      event.http_status = result->status;
    } else {
      event.error = result.status();
    }
    const absl::Duration delay =
        retry_after.has_value() ? *retry_after : BackoffDelay(policy_, n, Uniform01());
    event.delay = delay;
    // Give up when attempts are spent, when the sink already has part of a
    // body, or when waiting would end after the overall deadline.
    if (n >= policy_.max_attempts || !may_retry || Now() + delay >= overall_deadline) {
      event.kind = RetryEvent::Kind::kGiveUp;
      ++gave_up_;
      if (hooks_.on_event) hooks_.on_event(event);
      co_return result;
    }
    event.kind = RetryEvent::Kind::kRetry;
    if (hooks_.on_event) hooks_.on_event(event);
    co_await Sleep(delay);
  }
}

}  // namespace labelport::http
