#include "tests/unit/http/test_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/unit/http/read_request.h"

namespace labelport::http::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
constexpr auto kTok = net::as_tuple(net::use_awaitable);

std::string ServerRequest::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

bool ServerRequest::HasHeader(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return true;
  }
  return false;
}

struct TestServer::Impl {
  explicit Impl(Handler h) : handler(std::move(h)), acceptor(io) {}
  // Declared first: outlives the sessions destroyed with `io`.
  std::optional<ssl::context> tls;
  Handler handler;
  net::io_context io;
  tcp::acceptor acceptor;
};

namespace {

void CloseLowest(tcp::socket& s) {
  boost::system::error_code ec;
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}
void CloseLowest(beast::ssl_stream<tcp::socket>& s) { CloseLowest(s.next_layer()); }

template <class Stream>
net::awaitable<void> Serve(Stream& stream, TestServer::Handler& handler,
                           std::function<void(const ServerRequest&)> record) {
  beast::flat_buffer buffer;
  for (;;) {
    const std::optional<ServedRequest> next = co_await ReadRequest(stream, buffer, 64 << 20);
    if (!next) co_return;
    const ServedRequest& msg = *next;
    ServerRequest request;
    request.method = std::string(msg.method_string());
    request.target = std::string(msg.target());
    for (const auto& f : msg) {
      request.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    request.body = msg.body();
    record(request);
    Reply reply = handler(request);
    net::steady_timer timer(co_await net::this_coro::executor);
    if (reply.delay.count() > 0) {
      timer.expires_after(reply.delay);
      co_await timer.async_wait(kTok);
    }
    switch (reply.kind) {
      case Reply::Kind::kStall:
        CloseLowest(stream);
        co_return;
      case Reply::Kind::kDropInHeader: {
        std::string half = "HTTP/1.1 200 OK\r\nContent-Ty";
        co_await net::async_write(stream, net::buffer(half), kTok);
        CloseLowest(stream);
        co_return;
      }
      case Reply::Kind::kTruncatedBody: {
        std::string part =
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'x');
        co_await net::async_write(stream, net::buffer(part), kTok);
        CloseLowest(stream);
        co_return;
      }
      case Reply::Kind::kStallInBody: {
        std::string part = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + reply.body;
        auto [sec, sn] = co_await net::async_write(stream, net::buffer(part), kTok);
        if (sec) co_return;
        timer.expires_after(reply.stall);
        co_await timer.async_wait(kTok);
        CloseLowest(stream);
        co_return;
      }
      case Reply::Kind::kChunked: {
        std::string head =
            absl::StrCat("HTTP/1.1 ", reply.status, " OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        auto [hec, hn] = co_await net::async_write(stream, net::buffer(head), kTok);
        if (hec) co_return;
        std::string chunk;
        for (int64_t offset = 0; offset < reply.stream_bytes;) {
          const int64_t size = std::min<int64_t>(32 * 1024, reply.stream_bytes - offset);
          chunk = absl::StrFormat("%x\r\n", size);
          for (int64_t i = 0; i < size; ++i) chunk.push_back(PatternByte(offset + i));
          chunk += "\r\n";
          offset += size;
          auto [cec, cn] = co_await net::async_write(stream, net::buffer(chunk), kTok);
          if (cec) co_return;
        }
        std::string end = "0\r\n\r\n";
        co_await net::async_write(stream, net::buffer(end), kTok);
        break;
      }
      case Reply::Kind::kNormal: {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
        for (const auto& [k, v] : reply.headers) res.insert(k, v);
        res.body() = reply.body;
        res.prepare_payload();
        res.keep_alive(msg.keep_alive());
        auto [wec, wn] = co_await bhttp::async_write(stream, res, kTok);
        if (wec) co_return;
        if (!msg.keep_alive()) {
          CloseLowest(stream);
          co_return;
        }
        break;
      }
    }
    if (reply.close_after) {
      CloseLowest(stream);
      co_return;
    }
  }
}

}  // namespace

TestServer::TestServer(Handler handler, std::string cert_file, std::string key_file)
    : impl_(std::make_unique<Impl>(std::move(handler))), tls_(!cert_file.empty()) {
  if (tls_) {
    impl_->tls.emplace(ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(cert_file);
    impl_->tls->use_private_key_file(key_file, ssl::context::pem);
  }
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  auto record = [this](const ServerRequest& r) {
    ++requests_;
    std::lock_guard<std::mutex> lock(mu_);
    last_request_ = r;
  };
  net::co_spawn(
      impl_->io,
      [this, record]() -> net::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await impl_->acceptor.async_accept(kTok);
          if (ec) co_return;
          ++connections_;
          net::co_spawn(
              impl_->io,
              [this, record, s = std::move(socket)]() mutable -> net::awaitable<void> {
                const int now = ++active_;
                int seen = max_concurrent_.load();
                while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
                }
                if (impl_->tls) {
                  beast::ssl_stream<tcp::socket> stream(std::move(s), *impl_->tls);
                  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kTok);
                  if (!hec) co_await Serve(stream, impl_->handler, record);
                } else {
                  co_await Serve(s, impl_->handler, record);
                }
                --active_;
              },
              net::detached);
        }
      },
      net::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
}

TestServer::~TestServer() {
  impl_->io.stop();
  thread_.join();
}

std::string TestServer::Url(const std::string& path) const {
  return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_, path);
}

ServerRequest TestServer::last_request() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_request_;
}

TestPki MakeTestPki() {
  TestPki pki;
  std::string dir = (std::filesystem::temp_directory_path() / "labelport_http_pki_XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return pki;
  }
  const auto path = [&](const char* name) { return absl::StrCat(dir, "/", name); };
  {
    std::ofstream(path("good.ext")) << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                       "extendedKeyUsage=serverAuth\n";
    std::ofstream(path("other.ext")) << "subjectAltName=DNS:otherhost\nbasicConstraints=CA:FALSE\n"
                                        "extendedKeyUsage=serverAuth\n";
  }
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script = absl::StrCat(
      "set -e; cd '", dir, "'; exec >log.txt 2>&1; ", "openssl req -x509 ", key,
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=labelport-test-ca ",
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; ",
      "for n in good other; do ", "openssl req ", key, " -keyout $n.key -out $n.csr -subj /CN=$n; ",
      "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem ",
      "-days 2 -extfile $n.ext; done");
  if (std::system(script.c_str()) != 0) {
    std::fprintf(stderr, "openssl failed; see %s/log.txt\n", dir.c_str());
    return pki;
  }
  pki.dir = dir;
  pki.ca_file = path("ca.pem");
  pki.good_cert = path("good.pem");
  pki.good_key = path("good.key");
  pki.other_cert = path("other.pem");
  pki.other_key = path("other.key");
  return pki;
}

}  // namespace labelport::http::testing
