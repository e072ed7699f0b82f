// HttpClient: the port through which labelport talks HTTP(S) to V7 and to
// media URLs. Implementations: BeastHttpClient (Boost.Beast + OpenSSL);
// decorators: RateLimitedHttpClient, MeteredHttpClient, RetryingHttpClient
// (media URLs; V7 calls are retried by DarwinClient, both through the one
// RetryLoop). Tests use fakes or a real server on loopback.
//
// Asynchronous: every call is a Boost.Asio coroutine (`co_await`) running on
// the io_context the client was created with.
//
// Errors (absl::Status, never exceptions):
//   DEADLINE_EXCEEDED  the request's deadline passed (connect, TLS, send, read);
//   UNAVAILABLE        connection refused/reset/dropped, TLS handshake failure,
//                      truncated response (the message names host and stage);
//   INVALID_ARGUMENT   a malformed URL or request;
//   RESOURCE_EXHAUSTED the response body exceeded `max_response_bytes` (or
//                      HttpRequest::max_streamed_body_bytes);
//   PERMISSION_DENIED  the destination is refused by the client's endpoint
//                      filter (egress policy); never retried.
// An HTTP status (even 4xx/5xx) is NOT an error: it is returned in the
// response for the caller (or the retry decorator) to interpret.
//
// Secrets: header values are never logged or put into error messages; errors
// name the method, scheme://host:port and path only (no userinfo, query
// string or fragment: see RedactedUrl).
#ifndef LABELPORT_SERVICE_HTTP_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_HTTP_CLIENT_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labelport::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Produces the request body in chunks: returns the next chunk, an empty
// string at the end, or an error (which aborts the request). Used to stream
// large bodies (files, another response) without buffering them whole.
// A body source can be consumed once; retries need `body_factory`.
using BodyChunkSource = std::function<boost::asio::awaitable<absl::StatusOr<std::string>>()>;

struct HttpRequest {
  std::string method = "GET";
  // Absolute http:// or https:// URL, query string included.
  std::string url;
  Headers headers;
  // The body, when small enough to hold in memory.
  std::string body;
  // Alternatively, a streamed body of exactly `body_size` bytes (sent with
  // Content-Length). `body_factory` is called once per attempt.
  std::function<BodyChunkSource()> body_factory;
  std::optional<int64_t> body_size;
  // Absolute deadline of this attempt (connect to last byte).
  absl::Time deadline = absl::InfiniteFuture();
  // Whether the request may be sent again after a failure (GET/PUT/DELETE
  // usually; creates only when the caller made them safe).
  bool idempotent = false;
  // SendStreaming only: the longest the response may stall. The header must
  // arrive within this long of the request being sent, and every read of the
  // body must bring bytes within this long; else DEADLINE_EXCEEDED ("stall
  // timeout"). Infinite: only `deadline` bounds the reads.
  absl::Duration stall_timeout = absl::InfiniteDuration();
  // SendStreaming only: the largest response body accepted, checked against
  // Content-Length before any body byte is read and against the bytes as they
  // arrive; RESOURCE_EXHAUSTED beyond it. nullopt: unbounded.
  std::optional<int64_t> max_streamed_body_bytes;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  // Case-insensitive header lookup; nullopt when absent.
  std::optional<std::string> Header(absl::string_view name) const;
};

// Receives a streamed response body chunk by chunk; returning an error aborts
// the download with that error.
using BodyChunkSink = std::function<boost::asio::awaitable<absl::Status>(absl::string_view)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and reads the whole response (body at most
  // `max_response_bytes`, default 64 MiB).
  virtual boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) = 0;

  // Sends `request` and streams the response body into `sink` as it arrives
  // (constant memory). The returned response has status and headers, and an
  // empty body. Not retried by RetryingHttpClient once the sink has been
  // called (the caller decides).
  virtual boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(
      HttpRequest request, BodyChunkSink sink) = 0;
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_HTTP_CLIENT_H_
