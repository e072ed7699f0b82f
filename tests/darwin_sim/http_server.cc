#include "http_server.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/redirect_error.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "query_params.h"

namespace labelport::darwin_sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr uint64_t kMaxBodyBytes = 2ULL << 30;
constexpr uint32_t kMaxHeaderBytes = 1 << 20;  // Long item-name queries.

auto Redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

SimRequest ToSimRequest(http::request<http::string_body>& msg, bool tls,
                        const std::string& fallback_host) {
  SimRequest req;
  req.method = std::string(msg.method_string());
  const std::string_view target = msg.target();
  const size_t q = target.find('?');
  req.path = NormalizePath(PercentDecode(target.substr(0, q), false));
  if (q != std::string_view::npos) {
    req.raw_query = std::string(target.substr(q + 1));
    req.query = QueryParams::Parse(req.raw_query);
  }
  for (const auto& field : msg) {
    req.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  std::string host = req.Header("host");
  if (host.empty()) host = fallback_host;
  req.base_url = absl::StrCat(tls ? "https://" : "http://", host);
  req.body = std::move(msg.body());
  return req;
}

// Status line and headers of `r` as raw HTTP/1.1 text.
std::string RawHead(const SimResponse& r, size_t content_length) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", r.status, " ",
                   std::string(http::obsolete_reason(static_cast<http::status>(r.status))),
                   "\r\nServer: darwin-sim\r\n");
  if (!r.content_type.empty()) absl::StrAppend(&head, "Content-Type: ", r.content_type, "\r\n");
  for (const auto& [k, v] : r.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  absl::StrAppend(&head, "Content-Length: ", content_length, "\r\nConnection: close\r\n\r\n");
  return head;
}

template <class Stream>
asio::awaitable<void> Session(Stream& stream, SimApp* app, bool tls, std::string fallback_host) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(kMaxHeaderBytes);
    error_code ec;
    co_await http::async_read_header(stream, buffer, parser, Redirect(ec));
    if (ec) co_return;
    // curl and others wait for an interim 100 before sending large bodies.
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont(http::status::continue_, parser.get().version());
      co_await http::async_write(stream, cont, Redirect(ec));
      if (ec) co_return;
    }
    co_await http::async_read(stream, buffer, parser, Redirect(ec));
    if (ec) co_return;
    http::request<http::string_body> msg = parser.release();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    Outcome out = app->Handle(ToSimRequest(msg, tls, fallback_host));
    if (out.delay_ms > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(out.delay_ms));
      co_await timer.async_wait(Redirect(ec));
    }
    SimResponse& r = out.response;
    if (out.action == FaultAction::kDrop) {
      const std::string partial =
          "HTTP/1.1 200 OK\r\nContent-Type: "
          "application/json\r\nContent-Length: 4096\r\n\r\n{\"dro";
      co_await asio::async_write(stream, asio::buffer(partial), Redirect(ec));
      co_return;
    }
    if (out.action == FaultAction::kTruncate) {
      const std::string data = RawHead(r, r.body.size()) + r.body.substr(0, r.body.size() / 2);
      co_await asio::async_write(stream, asio::buffer(data), Redirect(ec));
      co_return;
    }
    http::response<http::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::server, "darwin-sim");
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    co_await http::async_write(stream, res, Redirect(ec));
    if (ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> ServePlain(tcp::socket socket, SimApp* app, std::string host) {
  beast::tcp_stream stream(std::move(socket));
  co_await Session(stream, app, false, std::move(host));
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> ServeTls(tcp::socket socket, asio::ssl::context* ctx, SimApp* app,
                               std::string host) {
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *ctx);
  error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  co_await stream.async_handshake(asio::ssl::stream_base::server, Redirect(ec));
  if (ec) co_return;
  beast::get_lowest_layer(stream).expires_never();
  co_await Session(stream, app, true, std::move(host));
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, SimApp* app)
    : options_(std::move(options)), app_(app), ioc_(), acceptor_(ioc_) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options,
                                                               SimApp* app) {
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), app));
  const HttpServerOptions& o = server->options_;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad listen host '", o.host, "'"));
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
      return absl::InvalidArgumentError("TLS needs both --tls_cert and --tls_key");
    }
    server->ssl_.emplace(asio::ssl::context::tls_server);
    server->ssl_->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3);
    server->ssl_->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load TLS certificate ", o.tls_cert_file, ": ", ec.message()));
    }
    server->ssl_->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load TLS key ", o.tls_key_file, ": ", ec.message()));
    }
  }
  const tcp::endpoint endpoint(address, o.port);
  tcp::acceptor& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", o.host, ":", o.port, ": ", ec.message()));
  }
  server->port_ = acceptor.local_endpoint().port();
  return server;
}

std::string HttpServer::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return absl::StrCat(ssl_.has_value() ? "https://" : "http://", v6 ? "[" : "", options_.host,
                      v6 ? "]" : "", ":", port_);
}

void HttpServer::Run() {
  const std::string host = url().substr(url().find("://") + 3);
  asio::co_spawn(
      ioc_,
      [this, host]() -> asio::awaitable<void> {
        for (;;) {
          error_code ec;
          tcp::socket socket =
              co_await acceptor_.async_accept(asio::make_strand(ioc_), Redirect(ec));
          if (ec) {
            if (!acceptor_.is_open()) co_return;
            continue;
          }
          socket.set_option(tcp::no_delay(true), ec);
          auto executor = socket.get_executor();
          if (ssl_.has_value()) {
            asio::co_spawn(executor, ServeTls(std::move(socket), &*ssl_, app_, host),
                           [](std::exception_ptr) {});
          } else {
            asio::co_spawn(executor, ServePlain(std::move(socket), app_, host),
                           [](std::exception_ptr) {});
          }
        }
      },
      [](std::exception_ptr) {});
  if (options_.stop_on_signals) {
    signals_.emplace(ioc_, SIGTERM, SIGINT);
    signals_->async_wait([this](const error_code& ec, int) {
      if (!ec) Stop();
    });
  }
  const int n = options_.threads > 0
                    ? options_.threads
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (std::thread& t : threads) t.join();
}

void HttpServer::Stop() {
  asio::post(ioc_, [this] {
    error_code ec;
    acceptor_.close(ec);
    if (signals_.has_value()) signals_->cancel(ec);
  });
  ioc_.stop();
}

}  // namespace labelport::darwin_sim
