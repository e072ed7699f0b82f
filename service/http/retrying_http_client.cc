#include "service/http/retrying_http_client.h"

#include <memory>
#include <string>
#include <utility>

#include "service/http/url.h"

namespace labelport::http {

RetryingHttpClient::RetryingHttpClient(HttpClient* inner, RetryPolicy policy, Hooks hooks)
    : inner_(inner), loop_(std::move(policy), std::move(hooks)) {}

RetryingHttpClient::Stats RetryingHttpClient::stats() const {
  const RetryLoop::Stats s = loop_.stats();
  return Stats{s.steps, s.attempts, s.retries, s.gave_up};
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
  const absl::Time deadline = request.deadline;
  const bool idempotent = request.idempotent;
  std::string method = request.method;
  std::string url = RedactedUrl(request.url);
  const RetryPolicy& policy = loop_.policy();
  co_return co_await loop_.Run<HttpResponse>(
      deadline, std::move(method), std::move(url),
      [&](int, absl::Time attempt_deadline) -> boost::asio::awaitable<Attempted<HttpResponse>> {
        HttpRequest this_attempt = request;
        this_attempt.deadline = attempt_deadline;
        bool may_retry = false;
        Attempted<HttpResponse> out;
        out.result = co_await attempt(std::move(this_attempt), may_retry);
        out.may_repeat = may_retry;
        if (out.result.ok()) {
          out.http_status = out.result->status;
          out.retryable = IsRetryableHttpStatus(out.result->status, idempotent) &&
                          !(policy.is_permanent && policy.is_permanent(*out.result));
          if (out.retryable) {
            if (auto header = out.result->Header("Retry-After")) {
              out.retry_after = ParseRetryAfter(*header, loop_.Now());
            }
          }
        } else {
          out.retryable = IsRetryableError(out.result.status(), idempotent);
        }
        co_return out;
      });
}

}  // namespace labelport::http
