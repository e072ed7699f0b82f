// Fuzzes the HTTP client's response path (status line, headers, chunked and
// sized bodies, truncation, early close) with BeastHttpClient against an
// in-process server on 127.0.0.1 that answers every request with the fuzzed
// bytes and closes. The first input byte picks Send (bounded body) or
// SendStreaming; the rest is the response. Every call must end with a
// response or a status within its deadline, never crash or hang.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/http/beast_http_client.h"

namespace {

namespace net = boost::asio;
using labelport::http::BeastHttpClient;
using labelport::http::HttpRequest;
using labelport::http::HttpResponse;

constexpr int64_t kMaxBody = 1 << 16;

// Accepts one connection at a time: reads the request head, writes the
// current response, closes.
class CannedServer {
 public:
  CannedServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      std::abort();
    port_ = ntohs(addr.sin_port);
    std::thread([this] { Serve(); }).detach();
  }

  int port() const { return port_; }
  void SetResponse(std::string response) {
    std::lock_guard<std::mutex> lock(mu_);
    response_ = std::move(response);
  }

 private:
  void Serve() {
    for (;;) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      timeval timeout{.tv_sec = 1, .tv_usec = 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      std::string response;
      {
        std::lock_guard<std::mutex> lock(mu_);
        response = response_;
      }
      size_t sent = 0;
      while (sent < response.size()) {
        const ssize_t n =
            ::send(conn, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::shutdown(conn, SHUT_RDWR);
      ::close(conn);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::string response_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CannedServer* server = new CannedServer();
  if (size < 1) return 0;
  const bool streaming = (data[0] & 1) != 0;
  server->SetResponse(std::string(reinterpret_cast<const char*>(data + 1), size - 1));

  net::io_context io;
  auto client = BeastHttpClient::Create(io.get_executor(), {.max_connections_per_host = 1});
  if (!client.ok()) std::abort();
  HttpRequest request;
  request.method = "GET";
  request.url = absl::StrCat("http://127.0.0.1:", server->port(), "/fuzz?sig=secret");
  request.deadline = absl::Now() + absl::Seconds(2);
  bool done = false;
  int64_t streamed = 0;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        absl::StatusOr<HttpResponse> response;
        if (streaming) {
          response = co_await (*client)->SendStreaming(
              request, [&](absl::string_view chunk) -> net::awaitable<absl::Status> {
                streamed += static_cast<int64_t>(chunk.size());
                if (streamed > kMaxBody) co_return absl::ResourceExhaustedError("enough");
                co_return absl::OkStatus();
              });
        } else {
          response = co_await (*client)->Send(request, kMaxBody);
          if (response.ok() && static_cast<int64_t>(response->body.size()) > kMaxBody) std::abort();
        }
        // Errors never carry the query string.
        if (!response.ok() && response.status().message().find("sig=secret") != std::string::npos)
          std::abort();
        done = true;
      },
      net::detached);
  io.run();
  if (!done) std::abort();
  return 0;
}
