// HttpServer: Boost.Beast HTTP/1.1 server on Asio C++20 coroutines, serving
// a SimApp over plain TCP or TLS, with keep-alive, on a pool of threads.
#ifndef LABELPORT_TESTS_DARWIN_SIM_HTTP_SERVER_H_
#define LABELPORT_TESTS_DARWIN_SIM_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/ssl/context.hpp"
#include "sim_app.h"

namespace labelport::darwin_sim {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;            // 0 picks a free port.
  std::string tls_cert_file;    // PEM chain; TLS when both files are given.
  std::string tls_key_file;     // PEM private key.
  int threads = 0;              // 0: hardware concurrency.
  bool stop_on_signals = true;  // SIGTERM / SIGINT stop Run().
};

class HttpServer {
 public:
  // Binds and listens. Errors: InvalidArgument for a bad host or TLS files;
  // Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(HttpServerOptions options, SimApp* app);
  ~HttpServer();

  // "http://HOST:PORT" or "https://HOST:PORT" with the bound port.
  std::string url() const;
  uint16_t port() const { return port_; }

  // Serves until Stop() or a handled signal; blocks the calling thread.
  void Run();
  // Thread-safe; makes Run() return.
  void Stop();

 private:
  HttpServer(HttpServerOptions options, SimApp* app);

  HttpServerOptions options_;
  SimApp* app_;  // Not owned.
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> ssl_;
  std::optional<boost::asio::signal_set> signals_;
  uint16_t port_ = 0;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_HTTP_SERVER_H_
