#include "service/http/beast_http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/tcp.hpp>
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
#include <exception>
#include <filesystem>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

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
constexpr size_t kStreamChunk = 64 * 1024;

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
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
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

  net::any_io_executor strand;
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;
};

// A request waiting for a connection slot. `granted` is guarded by mu_; the
// channel wakes the waiter from whichever thread released the slot.
struct BeastHttpClient::Waiter {
  explicit Waiter(net::any_io_executor executor) : channel(std::move(executor), 1) {}
  net::experimental::concurrent_channel<void(error_code)> channel;
  std::unique_ptr<Connection> granted;
};

struct BeastHttpClient::HostPool {
  int open = 0;  // slots taken: busy plus idle connections
  std::deque<std::unique_ptr<Connection>> idle;
  std::deque<std::shared_ptr<Waiter>> waiters;
};

// One attempt's state, shared between Perform and the connection's strand.
struct BeastHttpClient::Exchange {
  const Url& url;
  HttpRequest& request;
  bhttp::verb verb;
  std::string what;  // "METHOD scheme://host:port/path" for messages
  int64_t max_response_bytes = 0;
  BodyChunkSink* sink = nullptr;  // SendStreaming only
  // Outcome flags.
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
    : executor_(std::move(executor)),
      options_(std::move(options)),
      ssl_context_(std::move(ssl_context)) {}

BeastHttpClient::~BeastHttpClient() = default;

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
    for (int attempt = 1;; ++attempt) {
      auto connection = co_await AcquireConnection(origin, request.deadline);
      if (!connection.ok()) {
        co_return absl::Status(connection.status().code(),
                               absl::StrCat(what, ": ", connection.status().message()));
      }
      std::unique_ptr<Connection> conn = *std::move(connection);
      const bool reused = conn->connected();
      Exchange exchange{*url, request, verb, what, max_response_bytes, sink};
      net::any_io_executor strand = conn->strand;
      absl::StatusOr<HttpResponse> result =
          co_await net::co_spawn(strand, RunExchange(*conn, exchange), net::use_awaitable);
      const bool stale = !result.ok() && reused && absl::IsUnavailable(result.status()) &&
                         !exchange.response_started && !exchange.sink_called;
      ReleaseConnection(origin, std::move(conn), result.ok() && exchange.reusable);
      // A pooled connection the server closed while idle fails before any
      // response byte; an idempotent request is safe to send once more.
      if (stale && attempt == 1 && request.idempotent) continue;
      co_return result;
    }
  } catch (const std::exception& e) {
    co_return absl::InternalError(absl::StrCat("http client: unexpected exception: ", e.what()));
  }
}

net::awaitable<absl::StatusOr<HttpResponse>> BeastHttpClient::RunExchange(Connection& c,
                                                                          Exchange& ex) {
  try {
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
    if (c.tls) co_return co_await DoExchange(*c.tls, c.buffer, options_, ex);
    co_return co_await DoExchange(*c.tcp, c.buffer, options_, ex);
  } catch (const std::exception& e) {
    co_return absl::InternalError(absl::StrCat(ex.what, ": unexpected exception: ", e.what()));
  }
}

net::awaitable<absl::StatusOr<std::unique_ptr<BeastHttpClient::Connection>>>
BeastHttpClient::AcquireConnection(const std::string& origin, absl::Time deadline) {
  const net::any_io_executor caller = co_await net::this_coro::executor;
  std::shared_ptr<Waiter> waiter;
  std::vector<std::unique_ptr<Connection>> dropped;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<HostPool>& pool = pools_[origin];
    if (!pool) pool = std::make_unique<HostPool>();
    const auto now = SteadyClock::now();
    const auto max_idle = absl::ToChronoNanoseconds(options_.idle_timeout);
    std::unique_ptr<Connection> found;
    while (!found && !pool->idle.empty()) {
      std::unique_ptr<Connection> candidate = std::move(pool->idle.back());
      pool->idle.pop_back();
      if (now - candidate->idle_since <= max_idle && candidate->LooksAlive()) {
        found = std::move(candidate);
      } else {
        --pool->open;
        dropped.push_back(std::move(candidate));
      }
    }
    if (found) co_return found;
    if (pool->open < options_.max_connections_per_host) {
      ++pool->open;
      co_return std::make_unique<Connection>(net::make_strand(executor_));
    }
    waiter = std::make_shared<Waiter>(caller);
    pool->waiters.push_back(waiter);
  }
  // Should this coroutine be destroyed while queued, its place (and a slot
  // granted meanwhile) must not be lost.
  struct AbandonGuard {
    ~AbandonGuard() {
      if (client != nullptr) client->AbandonWait(origin, waiter);
    }
    BeastHttpClient* client;
    std::string origin;
    std::shared_ptr<Waiter> waiter;
  } guard{this, origin, waiter};
  if (deadline == absl::InfiniteFuture()) {
    co_await waiter->channel.async_receive(kTok);
  } else {
    using namespace net::experimental::awaitable_operators;  // NOLINT(build/namespaces)
    net::steady_timer timer(caller);
    timer.expires_at(ToSteady(deadline));
    co_await (waiter->channel.async_receive(kTok) || timer.async_wait(kTok));
  }
  guard.client = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (waiter->granted) co_return std::move(waiter->granted);
  auto& waiters = pools_[origin]->waiters;
  waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
  co_return absl::DeadlineExceededError(absl::StrCat("deadline exceeded waiting for one of ",
                                                     options_.max_connections_per_host,
                                                     " connections to ", origin));
}

void BeastHttpClient::AbandonWait(const std::string& origin,
                                  const std::shared_ptr<Waiter>& waiter) {
  std::unique_ptr<Connection> granted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    granted = std::move(waiter->granted);
    auto& waiters = pools_[origin]->waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
  }
  if (granted) {
    const bool reusable = granted->connected();
    ReleaseConnection(origin, std::move(granted), reusable);
  }
}

void BeastHttpClient::ReleaseConnection(const std::string& origin,
                                        std::unique_ptr<Connection> connection, bool reusable) {
  std::unique_ptr<Connection> to_close;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(mu_);
  HostPool& pool = *pools_[origin];
  if (reusable) {
    connection->idle_since = SteadyClock::now();
    connection->lowest().expires_never();
  } else {
    to_close = std::move(connection);
    connection = std::make_unique<Connection>(net::make_strand(executor_));
  }
  if (!pool.waiters.empty()) {
    std::shared_ptr<Waiter> next = std::move(pool.waiters.front());
    pool.waiters.pop_front();
    next->granted = std::move(connection);
    next->channel.try_send(error_code{});
  } else if (reusable) {
    pool.idle.push_back(std::move(connection));
  } else {
    --pool.open;
  }
}

}  // namespace labelport::http
