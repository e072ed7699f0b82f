// BeastHttpClient: HttpClient over Boost.Beast and OpenSSL (HTTP/1.1).
//
// * Keep-alive connection pools keyed by (scheme, host, port). A connection is
//   reused after a complete response that allows keep-alive, and dropped on
//   any error. Idle connections are closed after `idle_timeout`.
// * Bounded concurrency: at most `max_connections_per_host` connections (busy
//   or idle) per origin; further requests wait, in FIFO order, for a free one
//   (bounded by the request's deadline).
// * https: certificate verification against the system roots plus the
//   optional `ca_file`, host-name (or IP address) verification, SNI.
// * Every attempt is bounded by HttpRequest::deadline, from waiting for a
//   connection to the last byte of the response; SendStreaming also by
//   HttpRequest::stall_timeout (per read) and max_streamed_body_bytes.
// * With Options::endpoint_filter, every resolved address is checked before
//   it is connected to (so a name re-bound between checks cannot escape).
// * Streamed request bodies are sent chunk by chunk with Content-Length;
//   SendStreaming hands the response body to the sink as it arrives.
// * No Accept-Encoding is sent; bodies are returned as received.
// * A request that fails on a reused keep-alive connection before any byte of
//   a response arrived (the server closed it while idle) is sent once more on
//   a new connection if it is idempotent. No other retries (see
//   RetryingHttpClient).
//
// Errors as in http_client.h; no exception escapes. Header values are never
// logged or put in messages.
//
// Thread-safety: Send/SendStreaming may be called concurrently from
// coroutines on any thread of the executor's io_context. Each connection
// runs on its own strand of that io_context: its stream is used, and the
// connection destroyed, only there; the request's body source and the
// response sink are called there. Destroy the client once its calls have
// completed, or once its io_context has stopped for good: calls whose
// coroutines are then destroyed with the io_context give their connections
// back to pool state they share with the client. The io_context must
// outlive the client.
//
// Cancellation (Asio per-operation cancellation of the awaiting coroutine,
// e.g. `co_await (client.Send(r) || timer.async_wait(...))`): terminal
// cancellation ends the wait for a connection and the exchange (which is
// then closed). The call returns CANCELLED, unless the response was complete
// already (it is returned). As for any Asio operation, the caller emits the
// cancellation on its own executor (a strand when the io_context has several
// threads); the client carries it to the connection's strand.
#ifndef LABELPORT_SERVICE_HTTP_BEAST_HTTP_CLIENT_H_
#define LABELPORT_SERVICE_HTTP_BEAST_HTTP_CLIENT_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/http/http_client.h"

namespace labelport::http {

struct Url;

class BeastHttpClient : public HttpClient {
 public:
  struct Options {
    // Optional PEM file of additional trusted CA certificates (private
    // deployments, tests). The system roots are always trusted.
    std::string ca_file;
    // Connections per (scheme, host, port), busy plus idle; >= 1.
    int max_connections_per_host = 16;
    // Idle keep-alive connections older than this are closed, not reused.
    absl::Duration idle_timeout = absl::Seconds(30);
    // Sent unless the request sets its own User-Agent.
    std::string user_agent = "labelport/0.1";
    // Optional egress check, called with the URL's host (name or IP literal)
    // and each address it resolved to, before a new connection is made; only
    // addresses it returns OK for are connected to. When it refuses every
    // address the request fails with PERMISSION_DENIED (its message and
    // payloads kept). Pooled connections were checked when they were made.
    // Must be thread-safe.
    std::function<absl::Status(absl::string_view host, const boost::asio::ip::address& address)>
        endpoint_filter = nullptr;
  };

  struct Stats {
    int64_t connections_opened = 0;  // TCP connections established
    int64_t connections_reused = 0;  // requests served by a pooled connection
  };

  // INVALID_ARGUMENT for bad options, NOT_FOUND / INVALID_ARGUMENT when the
  // CA file cannot be read or parsed, INTERNAL when OpenSSL fails to set up.
  static absl::StatusOr<std::unique_ptr<BeastHttpClient>> Create(
      boost::asio::any_io_executor executor, Options options);

  ~BeastHttpClient() override;

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Send(
      HttpRequest request, int64_t max_response_bytes = int64_t{64} << 20) override;
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                                     BodyChunkSink sink) override;

  Stats stats() const;

 private:
  struct Connection;
  struct Waiter;
  struct HostPool;
  struct Pool;
  struct Exchange;

  BeastHttpClient(boost::asio::any_io_executor executor, Options options,
                  boost::asio::ssl::context ssl_context);

  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Perform(HttpRequest request,
                                                               int64_t max_response_bytes,
                                                               BodyChunkSink* sink);
  // A connection for `origin` (possibly not yet connected, or closed by the
  // server while idle: RunExchange checks on the strand), waiting for a free
  // slot until `deadline`.
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Connection>>> AcquireConnection(
      const std::string& origin, absl::Time deadline);
  // Runs on connection.strand.
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> RunExchange(Connection& connection,
                                                                   Exchange& exchange);

  const Options options_;
  boost::asio::ssl::context ssl_context_;
  // The connection pools, shared with the calls in progress.
  const std::shared_ptr<Pool> pool_;

  std::atomic<int64_t> connections_opened_{0};
  std::atomic<int64_t> connections_reused_{0};
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_BEAST_HTTP_CLIENT_H_
