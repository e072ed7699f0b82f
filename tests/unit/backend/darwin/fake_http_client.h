// FakeHttpClient: an http::HttpClient that records every request and answers
// from a script, for unit tests of code that sits on the HttpClient port.
#ifndef LABELPORT_TESTS_UNIT_BACKEND_DARWIN_FAKE_HTTP_CLIENT_H_
#define LABELPORT_TESTS_UNIT_BACKEND_DARWIN_FAKE_HTTP_CLIENT_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/http/http_client.h"

namespace labelport::http::testing {

// What the fake saw of one request. A streamed body is drained and recorded
// in `body`.
struct RecordedRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  bool streamed = false;
  std::optional<int64_t> body_size;
  absl::Time deadline;
  bool idempotent = false;
  absl::Duration stall_timeout = absl::InfiniteDuration();
  std::optional<int64_t> max_streamed_body_bytes;

  // Case-insensitive; nullopt when absent.
  std::optional<std::string> Header(absl::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return std::nullopt;
  }
};

class FakeHttpClient : public HttpClient {
 public:
  // Queues the answer to the next request.
  void Reply(int status, std::string body, Headers headers = {}) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    replies_.emplace_back(std::move(response));
  }
  // Queues a transport error as the answer to the next request.
  void Fail(absl::Status status) { replies_.emplace_back(std::move(status)); }

  const std::vector<RecordedRequest>& requests() const { return requests_; }
  size_t pending_replies() const { return replies_.size(); }

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t /*max_response_bytes*/) override {
    RecordedRequest r = Record(request);
    r.body_size = request.body_size;
    if (request.body_factory) {
      r.streamed = true;
      BodyChunkSource source = request.body_factory();
      while (true) {
        absl::StatusOr<std::string> chunk = co_await source();
        if (!chunk.ok()) co_return chunk.status();
        if (chunk->empty()) break;
        r.body += *chunk;
      }
    }
    requests_.push_back(std::move(r));
    co_return NextReply(request);
  }

  // Answers from the same script as Send: the reply's body is passed to
  // `sink` in chunks of at most kStreamChunkBytes and the returned response
  // has an empty body. A sink error is returned as is.
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) override {
    RecordedRequest r = Record(request);
    r.stall_timeout = request.stall_timeout;
    r.max_streamed_body_bytes = request.max_streamed_body_bytes;
    requests_.push_back(std::move(r));
    absl::StatusOr<HttpResponse> reply = NextReply(request);
    if (!reply.ok()) co_return reply;
    std::string body = std::move(reply->body);
    reply->body.clear();
    for (size_t at = 0; at < body.size(); at += kStreamChunkBytes) {
      absl::Status status = co_await sink(absl::string_view(body).substr(at, kStreamChunkBytes));
      if (!status.ok()) co_return status;
    }
    co_return reply;
  }

 private:
  // Small, so that a short body still reaches the sink in several chunks.
  static constexpr size_t kStreamChunkBytes = 4;

  // What Send and SendStreaming both record of `request`.
  static RecordedRequest Record(const HttpRequest& request) {
    RecordedRequest r;
    r.method = request.method;
    r.url = request.url;
    r.headers = request.headers;
    r.body = request.body;
    r.deadline = request.deadline;
    r.idempotent = request.idempotent;
    return r;
  }

  // The next scripted reply, taken off the script; fails the test (and
  // answers INTERNAL) when none is left.
  absl::StatusOr<HttpResponse> NextReply(const HttpRequest& request) {
    if (replies_.empty()) {
      ADD_FAILURE() << "FakeHttpClient: no scripted reply for " << request.method << " "
                    << request.url;
      return absl::InternalError("FakeHttpClient: no scripted reply");
    }
    absl::StatusOr<HttpResponse> reply = std::move(replies_.front());
    replies_.pop_front();
    return reply;
  }

  std::vector<RecordedRequest> requests_;
  std::deque<absl::StatusOr<HttpResponse>> replies_;
};

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_BACKEND_DARWIN_FAKE_HTTP_CLIENT_H_
