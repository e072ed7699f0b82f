#include "service/http/beast_http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/http/url.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto kTok = net::as_tuple(net::use_awaitable);
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr size_t kStreamChunk = size_t{64} * 1024;

SteadyClock::time_point ToSteady(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  left = std::clamp(left, absl::ZeroDuration(), absl::Hours(24 * 365));
  return SteadyClock::now() + absl::ToChronoNanoseconds(left);
}

void SetExpiry(beast::tcp_stream& stream, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    stream.expires_never();
  } else {
    stream.expires_at(ToSteady(deadline));
  }
}

// Arms the timer of the next read: the request's deadline, or the stall
// timeout from now when that comes first. Returns whether the stall timeout
// is the nearer one.
bool ArmRead(beast::tcp_stream& stream, const HttpRequest& request) {
  if (request.stall_timeout != absl::InfiniteDuration()) {
    const absl::Time stall = absl::Now() + request.stall_timeout;
    if (stall < request.deadline) {
      stream.expires_at(ToSteady(stall));
      return true;
    }
  }
  SetExpiry(stream, request.deadline);
  return false;
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`|~", absl::string_view(&c, 1));
}

absl::Status ValidateHeaders(const Headers& headers, absl::string_view what) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": malformed header name"));
    }
    // The value is not quoted: it may be a secret.
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return c == '\r' || c == '\n' || c == '\0'; })) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": header ", name, " has a CR, LF or NUL in its value"));
    }
    if (absl::EqualsIgnoreCase(name, "content-length") ||
        absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": header ", name, " is set by the client, not the caller"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// A pooled connection. Everything but `strand` and `idle_since` is touched
// only on `strand`, and the object is destroyed there (CloseOnStrand): the
// stream's timers, the socket and the buffer belong to the exchange running
// on the strand and to the handlers it leaves queued there. The pool only
// moves the object between threads, under Pool::mu (`idle_since` is pool
// state).
struct BeastHttpClient::Connection {
  explicit Connection(net::any_io_executor executor) : strand(std::move(executor)) {}

  bool connected() const { return tcp != nullptr || tls != nullptr; }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }

  // A pooled connection is worth reusing when the peer has neither closed it
  // nor sent anything unsolicited (e.g. a TLS close_notify) while it was idle.
  bool LooksAlive() {
    if (!connected() || buffer.size() != 0) return false;
    auto& socket = lowest().socket();
    if (!socket.is_open()) return false;
    char byte;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // Drops the stream (on the strand); the next exchange connects afresh.
  void Close() {
    tls.reset();
    tcp.reset();
    buffer.clear();
  }

  // Destroys `connection` on its strand, after the handlers still queued
  // there (timer completions of its last exchange, a late cancellation).
  static void CloseOnStrand(std::unique_ptr<Connection> connection) {
    const net::any_io_executor strand = connection->strand;
    net::post(strand, [connection = std::move(connection)]() mutable { connection.reset(); });
  }

  net::any_io_executor strand;
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;  // guarded by Pool::mu
};

// A request waiting for a connection slot. `granted` is guarded by Pool::mu.
// The channel carries both possible wake-ups, from whichever thread: a slot
// was granted (Pool::Release) or the deadline passed (the waiter's timer).
struct BeastHttpClient::Waiter {
  explicit Waiter(const net::any_io_executor& executor) : channel(executor, 1) {}
  net::experimental::concurrent_channel<void(error_code)> channel;
  std::unique_ptr<Connection> granted;
};

struct BeastHttpClient::HostPool {
  int open = 0;  // slots taken: busy plus idle connections
  std::deque<std::unique_ptr<Connection>> idle;
  std::deque<std::shared_ptr<Waiter>> waiters;
};

// The pools of all origins, shared by the client and its calls in progress:
// a call's coroutine destroyed with its io_context after the client still
// gives its connection back here. Guarded by `mu`.
struct BeastHttpClient::Pool {
  explicit Pool(net::any_io_executor executor) : executor(std::move(executor)) {}

  // Returns the slot of `connection`: pooled when `reusable`, else closed on
  // its strand. Call only once no exchange runs on it.
  void Release(const std::string& origin, std::unique_ptr<Connection> connection, bool reusable);
  // A waiter that will never look at its grant leaves the queue; a slot it
  // was granted is released.
  void Abandon(const std::string& origin, const std::shared_ptr<Waiter>& waiter);
  // The client is gone: idle connections are closed, and so is every
  // connection released from now on (by calls destroyed with the stopped
  // io_context).
  void Close();

  const net::any_io_executor executor;
  std::mutex mu;
  bool closed = false;
  absl::flat_hash_map<std::string, std::unique_ptr<HostPool>> hosts;
};

namespace {

// Carries a caller's cancellation to an exchange, which runs on its
// connection's strand. The caller's slot handler only posts to the strand;
// there `signal` (to which the exchange's coroutine is bound) is emitted,
// unless the exchange has ended: its operations, and the cancellation slots
// they installed, are gone by then. Shared with the posted handlers, so one
// that runs late finds it alive. `exchange_ended` is touched on the strand
// only.
struct ExchangeCancellation {
  void Emit(net::cancellation_type type) {
    if (!exchange_ended) signal.emit(type);
  }

  net::cancellation_signal signal;
  bool exchange_ended = false;
};

}  // namespace

// One attempt's state, shared between Perform and the connection's strand:
// written by the exchange on the strand, read by Perform once it completed.
struct BeastHttpClient::Exchange {
  const Url& url;
  HttpRequest& request;
  bhttp::verb verb;
  std::string what;  // "METHOD scheme://host:port/path" for messages
  int64_t max_response_bytes = 0;
  BodyChunkSink* sink = nullptr;  // SendStreaming only
  std::shared_ptr<ExchangeCancellation> cancellation = std::make_shared<ExchangeCancellation>();
  // Outcome flags.
  bool reused = false;  // sent on a pooled keep-alive connection
  bool reusable = false;
  bool response_started = false;
  bool body_source_called = false;
  bool sink_called = false;
  // Whether the pending read's timer is the stall timeout (not the deadline).
  bool stall_armed = false;

  absl::Status Error(const error_code& ec, absl::string_view stage) const {
    if (ec == beast::error::timeout && stall_armed && absl::Now() < request.deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, ": no data for ",
                                                      absl::FormatDuration(request.stall_timeout),
                                                      " (stall timeout) while ", stage));
    }
    if (ec == beast::error::timeout || absl::Now() >= request.deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, ": deadline exceeded during ", stage));
    }
    return absl::UnavailableError(absl::StrCat(what, ": ", stage, " failed: ", ec.message()));
  }
};

namespace {

template <class Stream>
net::awaitable<absl::Status> WriteRequest(Stream& stream, const BeastHttpClient::Options& options,
                                          auto& ex, bool& request_keep_alive) {
  const Url& url = ex.url;
  HttpRequest& request = ex.request;
  bhttp::request<bhttp::buffer_body> req{ex.verb, url.target, 11};
  bool has_host = false;
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    has_host = has_host || absl::EqualsIgnoreCase(name, "host");
    has_user_agent = has_user_agent || absl::EqualsIgnoreCase(name, "user-agent");
  }
  if (!has_host) req.set(bhttp::field::host, url.HostHeader());
  if (!has_user_agent && !options.user_agent.empty()) {
    req.set(bhttp::field::user_agent, options.user_agent);
  }
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  const bool streamed = static_cast<bool>(request.body_factory);
  const uint64_t length =
      streamed ? static_cast<uint64_t>(*request.body_size) : request.body.size();
  if (length > 0 || streamed || ex.verb == bhttp::verb::post || ex.verb == bhttp::verb::put ||
      ex.verb == bhttp::verb::patch) {
    req.content_length(length);
  }
  request_keep_alive = req.keep_alive();
  bhttp::request_serializer<bhttp::buffer_body> serializer{req};

  if (!streamed) {
    req.body().data = request.body.empty() ? nullptr : request.body.data();
    req.body().size = request.body.size();
    req.body().more = false;
    auto [ec, n] = co_await bhttp::async_write(stream, serializer, kTok);
    if (ec) co_return ex.Error(ec, "sending the request");
    co_return absl::OkStatus();
  }

  req.body().data = nullptr;
  req.body().more = true;
  {
    auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kTok);
    if (ec) co_return ex.Error(ec, "sending the request header");
  }
  ex.body_source_called = true;
  BodyChunkSource source = request.body_factory();
  uint64_t sent = 0;
  for (;;) {
    absl::StatusOr<std::string> chunk = co_await source();
    if (!chunk.ok()) co_return chunk.status();
    if (chunk->empty()) break;
    if (chunk->size() > length - sent) {
      co_return absl::InvalidArgumentError(absl::StrCat(
          ex.what, ": the body source produced more than body_size = ", length, " bytes"));
    }
    sent += chunk->size();
    req.body().data = chunk->data();
    req.body().size = chunk->size();
    req.body().more = true;
    auto [ec, n] = co_await bhttp::async_write(stream, serializer, kTok);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return ex.Error(ec, "sending the request body");
  }
  if (sent != length) {
    co_return absl::InvalidArgumentError(absl::StrCat(ex.what, ": the body source ended after ",
                                                      sent, " of body_size = ", length, " bytes"));
  }
  req.body().data = nullptr;
  req.body().size = 0;
  req.body().more = false;
  auto [ec, n] = co_await bhttp::async_write(stream, serializer, kTok);
  if (ec) co_return ex.Error(ec, "sending the request body");
  co_return absl::OkStatus();
}

template <class Message>
void CopyHeaders(const Message& message, HttpResponse& out) {
  out.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
}

bool IsInterim(unsigned status) { return status >= 100 && status < 200 && status != 101; }

template <class Stream>
net::awaitable<absl::StatusOr<HttpResponse>> ReadWholeResponse(Stream& stream,
                                                               beast::flat_buffer& buffer, auto& ex,
                                                               bool request_keep_alive) {
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  for (;;) {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(static_cast<uint64_t>(ex.max_response_bytes));
    if (ex.verb == bhttp::verb::head) parser->skip(true);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, *parser, kTok);
    if (parser->got_some()) ex.response_started = true;
    if (ec == bhttp::error::body_limit) {
      co_return absl::ResourceExhaustedError(absl::StrCat(
          ex.what, ": response body exceeds max_response_bytes = ", ex.max_response_bytes));
    }
    if (ec) {
      co_return ex.Error(ec, parser->is_header_done() ? "reading the response body"
                                                      : "reading the response header");
    }
    if (!IsInterim(parser->get().result_int())) break;
  }
  HttpResponse out;
  CopyHeaders(parser->get(), out);
  out.body = std::move(parser->get().body());
  ex.reusable = request_keep_alive && parser->keep_alive();
  co_return out;
}

template <class Stream>
net::awaitable<absl::StatusOr<HttpResponse>> StreamResponse(Stream& stream,
                                                            beast::flat_buffer& buffer, auto& ex,
                                                            bool request_keep_alive) {
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  const std::optional<int64_t>& limit = ex.request.max_streamed_body_bytes;
  auto too_large = [&ex, &limit] {
    return absl::ResourceExhaustedError(
        absl::StrCat(ex.what, ": response body exceeds max_streamed_body_bytes = ", *limit));
  };
  for (;;) {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    if (limit.has_value()) {
      parser->body_limit(static_cast<uint64_t>(std::max<int64_t>(*limit, 0)));
    } else {
      parser->body_limit(boost::none);
    }
    if (ex.verb == bhttp::verb::head) parser->skip(true);
    ex.stall_armed = ArmRead(beast::get_lowest_layer(stream), ex.request);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, *parser, kTok);
    if (parser->got_some()) ex.response_started = true;
    // Content-Length above the limit fails here, before any body byte.
    if (ec == bhttp::error::body_limit) co_return too_large();
    if (ec) co_return ex.Error(ec, "reading the response header");
    if (!IsInterim(parser->get().result_int())) break;
  }
  HttpResponse out;
  CopyHeaders(parser->get(), out);
  std::vector<char> chunk(kStreamChunk);
  while (!parser->is_done()) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    // One read at a time, each with its own stall timer: a body that
    // trickles is bounded by the deadline, one that stops by the stall
    // timeout.
    ex.stall_armed = ArmRead(beast::get_lowest_layer(stream), ex.request);
    auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, *parser, kTok);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit) co_return too_large();
    if (ec) co_return ex.Error(ec, "reading the response body");
    const size_t got = chunk.size() - parser->get().body().size;
    if (got > 0) {
      ex.sink_called = true;
      absl::Status status = co_await (*ex.sink)(absl::string_view(chunk.data(), got));
      if (!status.ok()) co_return status;
    }
  }
  ex.reusable = request_keep_alive && parser->keep_alive();
  co_return out;
}

template <class Stream>
net::awaitable<absl::StatusOr<HttpResponse>> DoExchange(Stream& stream, beast::flat_buffer& buffer,
                                                        const BeastHttpClient::Options& options,
                                                        auto& ex) {
  SetExpiry(beast::get_lowest_layer(stream), ex.request.deadline);
  bool request_keep_alive = true;
  absl::Status written = co_await WriteRequest(stream, options, ex, request_keep_alive);
  if (!written.ok()) co_return written;
  if (ex.sink == nullptr) {
    co_return co_await ReadWholeResponse(stream, buffer, ex, request_keep_alive);
  }
  co_return co_await StreamResponse(stream, buffer, ex, request_keep_alive);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BeastHttpClient>> BeastHttpClient::Create(
    net::any_io_executor executor, Options options) {
  if (options.max_connections_per_host < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("http client: max_connections_per_host must be >= 1, got ",
                     options.max_connections_per_host));
  }
  if (options.idle_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("http client: idle_timeout must not be negative");
  }
  try {
    ssl::context context(ssl::context::tls_client);
    error_code ec;
    context.set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
    if (!ec) context.set_default_verify_paths(ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("http client: cannot set up TLS (system roots): ", ec.message()));
    }
    if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
      return absl::InternalError("http client: cannot require TLS 1.2");
    }
    if (!options.ca_file.empty()) {
      std::error_code fs_ec;
      if (!std::filesystem::is_regular_file(options.ca_file, fs_ec)) {
        return absl::NotFoundError(
            absl::StrCat("http client: CA file ", options.ca_file, " does not exist"));
      }
      context.load_verify_file(options.ca_file, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("http client: cannot load CA file ", options.ca_file, ": ", ec.message()));
      }
    }
    context.set_verify_mode(ssl::verify_peer, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("http client: set_verify_mode: ", ec.message()));
    }
    return std::unique_ptr<BeastHttpClient>(
        new BeastHttpClient(std::move(executor), std::move(options), std::move(context)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("http client: TLS set-up failed: ", e.what()));
  }
}

BeastHttpClient::BeastHttpClient(net::any_io_executor executor, Options options,
                                 ssl::context ssl_context)
    : options_(std::move(options)),
      ssl_context_(std::move(ssl_context)),
      pool_(std::make_shared<Pool>(std::move(executor))) {}

BeastHttpClient::~BeastHttpClient() { pool_->Close(); }

BeastHttpClient::Stats BeastHttpClient::stats() const {
  return Stats{connections_opened_.load(), connections_reused_.load()};
}

net::awaitable<absl::StatusOr<HttpResponse>> BeastHttpClient::Send(HttpRequest request,
                                                                   int64_t max_response_bytes) {
  co_return co_await Perform(std::move(request), max_response_bytes, nullptr);
}

net::awaitable<absl::StatusOr<HttpResponse>> BeastHttpClient::SendStreaming(HttpRequest request,
                                                                            BodyChunkSink sink) {
  if (!sink) co_return absl::InvalidArgumentError("SendStreaming: no sink");
  co_return co_await Perform(std::move(request), 0, &sink);
}

net::awaitable<absl::StatusOr<HttpResponse>> BeastHttpClient::Perform(HttpRequest request,
                                                                      int64_t max_response_bytes,
                                                                      BodyChunkSink* sink) {
  try {
    absl::StatusOr<Url> url = ParseUrl(request.url);
    if (!url.ok()) co_return url.status();
    const bhttp::verb verb = bhttp::string_to_verb(request.method);
    const std::string what = absl::StrCat(verb == bhttp::verb::unknown ? "request" : request.method,
                                          " ", RedactedUrl(*url));
    if (verb == bhttp::verb::unknown) {
      co_return absl::InvalidArgumentError(absl::StrCat(what, ": unsupported method"));
    }
    if (absl::Status valid = ValidateHeaders(request.headers, what); !valid.ok()) {
      co_return valid;
    }
    if (static_cast<bool>(request.body_factory) != request.body_size.has_value() ||
        (request.body_size.has_value() && (*request.body_size < 0 || !request.body.empty()))) {
      co_return absl::InvalidArgumentError(absl::StrCat(
          what, ": a streamed body needs body_factory and body_size >= 0 (and no body)"));
    }
    if (max_response_bytes < 0) {
      co_return absl::InvalidArgumentError(absl::StrCat(what, ": negative max_response_bytes"));
    }
    if (absl::Now() >= request.deadline) {
      co_return absl::DeadlineExceededError(absl::StrCat(what, ": deadline already passed"));
    }
    const std::string origin = url->Origin();
    const auto cancelled = [&what] {
      return absl::CancelledError(absl::StrCat(what, ": cancelled by the caller"));
    };
    for (int attempt = 1;; ++attempt) {
      auto acquired = co_await AcquireConnection(origin, request.deadline);
      if (!acquired.ok()) {
        co_return absl::Status(acquired.status().code(),
                               absl::StrCat(what, ": ", acquired.status().message()));
      }
      // Gives the slot back on every path, an exception's included; the
      // connection is kept only after a complete exchange that allows it.
      struct Lease {
        ~Lease() {
          if (connection != nullptr) pool->Release(origin, std::move(connection), false);
        }
        std::shared_ptr<Pool> pool;
        const std::string& origin;
        std::unique_ptr<Connection> connection;
      } lease{pool_, origin, *std::move(acquired)};
      Exchange exchange{*url, request, verb, what, max_response_bytes, sink};
      // The exchange runs on the connection's strand, and so does every use
      // of its stream. The caller's cancellation (emitted on the caller's
      // executor) reaches it only through a post to that strand, into
      // exchange.cancellation, to which the exchange's coroutine is bound.
      // (co_spawn bound to the caller's slot would forward the cancellation
      // itself, posting a raw pointer to a signal that lives in the caller's
      // slot; the caller frees that when it resumes, so a cancellation that
      // arrived as the exchange completed was emitted into freed memory, by
      // then often another exchange's, on another strand.)
      const net::any_io_executor strand = lease.connection->strand;
      net::cancellation_state caller = co_await net::this_coro::cancellation_state;
      if (caller.cancelled() != net::cancellation_type::none) {
        // While the slot was being granted: it goes back unused.
        pool_->Release(origin, std::move(lease.connection), /*reusable=*/true);
        co_return cancelled();
      }
      if (caller.slot().is_connected()) {
        caller.slot().assign(
            [cancellation = exchange.cancellation, strand](net::cancellation_type type) {
              net::post(strand, [cancellation, type] { cancellation->Emit(type); });
            });
      }
      absl::StatusOr<HttpResponse> result = co_await net::co_spawn(
          strand, RunExchange(*lease.connection, exchange),
          net::bind_cancellation_slot(exchange.cancellation->signal.slot(), net::use_awaitable));
      pool_->Release(origin, std::move(lease.connection), result.ok() && exchange.reusable);
      if (!result.ok() && caller.cancelled() != net::cancellation_type::none) co_return cancelled();
      // A pooled connection the server closed while idle fails before any
      // response byte; an idempotent request is safe to send once more.
      const bool stale = !result.ok() && exchange.reused && absl::IsUnavailable(result.status()) &&
                         !exchange.response_started && !exchange.sink_called;
      if (stale && attempt == 1 && request.idempotent) continue;
      co_return result;
    }
  } catch (const std::exception& e) {
    co_return absl::InternalError(absl::StrCat("http client: unexpected exception: ", e.what()));
  }
}

net::awaitable<absl::StatusOr<HttpResponse>> BeastHttpClient::RunExchange(Connection& c,
                                                                          Exchange& ex) {
  // Runs on c.strand. Once this coroutine ends, a cancellation that arrives
  // late is dropped: nothing of the exchange is left to cancel.
  struct EndOfExchange {
    ~EndOfExchange() { cancellation->exchange_ended = true; }
    std::shared_ptr<ExchangeCancellation> cancellation;
  } end_of_exchange{ex.cancellation};
  try {
    // The server may have closed a pooled connection while it was idle.
    if (c.connected() && !c.LooksAlive()) c.Close();
    ex.reused = c.connected();
    if (!c.connected()) {
      const Url& url = ex.url;
      const std::string port = std::to_string(url.port);
      std::vector<tcp::endpoint> endpoints;
      if (url.host_is_ip) {
        endpoints.emplace_back(net::ip::make_address(url.host), url.port);
      } else {
        // The resolver has no deadline of its own: a timer cancels it.
        auto resolver = std::make_shared<tcp::resolver>(c.strand);
        net::steady_timer watchdog(c.strand);
        if (ex.request.deadline != absl::InfiniteFuture()) {
          watchdog.expires_at(ToSteady(ex.request.deadline));
          watchdog.async_wait([resolver](const error_code& ec) {
            if (!ec) resolver->cancel();
          });
        }
        auto [ec, results] = co_await resolver->async_resolve(url.host, port, kTok);
        watchdog.cancel();
        if (ec) co_return ex.Error(ec, absl::StrCat("resolving ", url.host));
        for (const auto& entry : results) endpoints.push_back(entry.endpoint());
      }
      // The egress check is on the resolved addresses, right before they
      // are connected to: no other resolution can slip in between.
      if (options_.endpoint_filter) {
        absl::Status refused;
        std::erase_if(endpoints, [&](const tcp::endpoint& endpoint) {
          absl::Status allowed = options_.endpoint_filter(url.host, endpoint.address());
          if (allowed.ok()) return false;
          if (refused.ok()) refused = std::move(allowed);
          return true;
        });
        if (endpoints.empty() && !refused.ok()) {
          absl::Status denied(absl::StatusCode::kPermissionDenied,
                              absl::StrCat(ex.what, ": ", refused.message()));
          refused.ForEachPayload([&denied](absl::string_view type, const absl::Cord& payload) {
            denied.SetPayload(type, payload);
          });
          co_return denied;
        }
      }
      if (url.https()) {
        c.tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(c.strand, ssl_context_);
      } else {
        c.tcp = std::make_unique<beast::tcp_stream>(c.strand);
      }
      SetExpiry(c.lowest(), ex.request.deadline);
      auto [ec, endpoint] = co_await c.lowest().async_connect(endpoints, kTok);
      if (ec) {
        c.tls.reset();
        c.tcp.reset();
        co_return ex.Error(ec, "connecting");
      }
      ++connections_opened_;
      error_code ignored;
      c.lowest().socket().set_option(tcp::no_delay(true), ignored);
      if (c.tls) {
        SSL* ssl = c.tls->native_handle();
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const bool names_set = url.host_is_ip
                                   ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str()) == 1
                                   : (SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 &&
                                      SSL_set1_host(ssl, url.host.c_str()) == 1);
        c.tls->set_verify_mode(ssl::verify_peer, ignored);
        if (!names_set) {
          c.tls.reset();
          co_return absl::InternalError(absl::StrCat(ex.what, ": cannot set the TLS peer name"));
        }
        auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, kTok);
        if (hec) {
          const long verify = SSL_get_verify_result(ssl);  // NOLINT(runtime/int)
          c.tls.reset();
          absl::Status status = ex.Error(hec, "TLS handshake");
          if (verify != X509_V_OK && absl::IsUnavailable(status)) {
            // Not retryable: the peer's identity cannot be verified, and
            // asking again will not change that.
            status = absl::FailedPreconditionError(
                absl::StrCat(status.message(), " (", X509_verify_cert_error_string(verify), ")"));
          }
          co_return status;
        }
      }
    } else {
      ++connections_reused_;
    }
    absl::StatusOr<HttpResponse> result;
    if (c.tls) {
      result = co_await DoExchange(*c.tls, c.buffer, options_, ex);
    } else {
      result = co_await DoExchange(*c.tcp, c.buffer, options_, ex);
    }
    // Pooled: no timer runs while idle.
    if (result.ok() && ex.reusable) c.lowest().expires_never();
    co_return result;
  } catch (const std::exception& e) {
    co_return absl::InternalError(absl::StrCat(ex.what, ": unexpected exception: ", e.what()));
  }
}

net::awaitable<absl::StatusOr<std::unique_ptr<BeastHttpClient::Connection>>>
BeastHttpClient::AcquireConnection(const std::string& origin, absl::Time deadline) {
  const net::any_io_executor caller = co_await net::this_coro::executor;
  std::unique_ptr<Connection> found;
  std::vector<std::unique_ptr<Connection>> expired;
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    std::unique_ptr<HostPool>& pool = pool_->hosts[origin];
    if (!pool) pool = std::make_unique<HostPool>();
    // Oldest first. Whether the server closed a connection is checked on
    // its strand, before it is used (RunExchange).
    const auto oldest_kept = SteadyClock::now() - absl::ToChronoNanoseconds(options_.idle_timeout);
    while (!pool->idle.empty() && pool->idle.front()->idle_since < oldest_kept) {
      --pool->open;
      expired.push_back(std::move(pool->idle.front()));
      pool->idle.pop_front();
    }
    if (!pool->idle.empty()) {
      found = std::move(pool->idle.back());
      pool->idle.pop_back();
    } else if (pool->open < options_.max_connections_per_host) {
      ++pool->open;
      found = std::make_unique<Connection>(net::make_strand(pool_->executor));
    } else {
      waiter = std::make_shared<Waiter>(caller);
      pool->waiters.push_back(waiter);
    }
  }
  for (std::unique_ptr<Connection>& connection : expired) {
    Connection::CloseOnStrand(std::move(connection));
  }
  if (found) co_return found;

  // Should this coroutine be destroyed while queued, its place (and a slot
  // granted meanwhile) must not be lost.
  struct AbandonGuard {
    ~AbandonGuard() {
      if (pool != nullptr) pool->Abandon(origin, waiter);
    }
    std::shared_ptr<Pool> pool;
    std::string origin;
    std::shared_ptr<Waiter> waiter;
  } guard{pool_, origin, waiter};
  // One wait, for whichever comes first through the channel: a granted slot
  // or the deadline. (Racing the two with `||` would have them complete and
  // cancel each other on different threads of the io_context.) The caller's
  // cancellation ends the wait too.
  net::steady_timer timer(caller);
  if (deadline != absl::InfiniteFuture()) {
    timer.expires_at(ToSteady(deadline));
    timer.async_wait([waiter](const error_code& ec) {
      if (!ec) waiter->channel.try_send(error_code(net::error::timed_out));
    });
  }
  auto [ec] = co_await waiter->channel.async_receive(kTok);
  timer.cancel();
  guard.pool = nullptr;
  std::unique_ptr<Connection> granted;
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    granted = std::move(waiter->granted);
    auto& waiters = pool_->hosts[origin]->waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
  }
  const bool timed_out = absl::Now() >= deadline;
  if (granted && !timed_out) co_return granted;
  // Too late to use it: it goes to the next waiter or back to the pool.
  if (granted) pool_->Release(origin, std::move(granted), /*reusable=*/true);
  if (timed_out || ec == net::error::timed_out) {
    co_return absl::DeadlineExceededError(absl::StrCat("deadline exceeded waiting for one of ",
                                                       options_.max_connections_per_host,
                                                       " connections to ", origin));
  }
  co_return absl::CancelledError(absl::StrCat("cancelled waiting for one of ",
                                              options_.max_connections_per_host, " connections to ",
                                              origin));
}

void BeastHttpClient::Pool::Abandon(const std::string& origin,
                                    const std::shared_ptr<Waiter>& waiter) {
  std::unique_ptr<Connection> granted;
  {
    std::lock_guard<std::mutex> lock(mu);
    granted = std::move(waiter->granted);
    auto& waiters = hosts[origin]->waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
  }
  // Unused: as good as before it was granted.
  if (granted) Release(origin, std::move(granted), /*reusable=*/true);
}

void BeastHttpClient::Pool::Release(const std::string& origin,
                                    std::unique_ptr<Connection> connection, bool reusable) {
  std::unique_lock<std::mutex> lock(mu);
  if (closed) {
    // Only while the io_context that ran the call destroys it: no handler
    // can run any more, and the strand no longer takes any.
    lock.unlock();
    connection.reset();
    return;
  }
  HostPool& pool = *hosts[origin];
  if (!reusable) {
    // Its slot is handed on with a fresh connection (new strand); the old one
    // is closed on its own strand.
    Connection::CloseOnStrand(std::move(connection));
    connection = nullptr;
  }
  if (!pool.waiters.empty()) {
    std::shared_ptr<Waiter> next = std::move(pool.waiters.front());
    pool.waiters.pop_front();
    next->granted = connection != nullptr
                        ? std::move(connection)
                        : std::make_unique<Connection>(net::make_strand(executor));
    next->channel.try_send(error_code{});
  } else if (connection != nullptr) {
    connection->idle_since = SteadyClock::now();
    pool.idle.push_back(std::move(connection));
  } else {
    --pool.open;
  }
}

void BeastHttpClient::Pool::Close() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    for (auto& [origin, pool] : hosts) {
      for (std::unique_ptr<Connection>& connection : pool->idle)
        idle.push_back(std::move(connection));
      pool->open -= static_cast<int>(pool->idle.size());
      pool->idle.clear();
    }
  }
  for (std::unique_ptr<Connection>& connection : idle) {
    Connection::CloseOnStrand(std::move(connection));
  }
}

}  // namespace labelport::http
