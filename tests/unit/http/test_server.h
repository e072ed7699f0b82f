// In-process HTTP/1.1 (optionally TLS) server on 127.0.0.1 for HttpClient
// tests, with misbehaviours on demand. Runs on its own thread.
#ifndef LABELPORT_TESTS_UNIT_HTTP_TEST_SERVER_H_
#define LABELPORT_TESTS_UNIT_HTTP_TEST_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace labelport::http::testing {

struct ServerRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Case-insensitive; "" when absent.
  std::string Header(const std::string& name) const;
  bool HasHeader(const std::string& name) const;
};

struct Reply {
  enum class Kind {
    kNormal,         // status, headers, body (Content-Length)
    kStall,          // send nothing for `delay`, then close
    kDropInHeader,   // send half a status line and headers, then close
    kTruncatedBody,  // Content-Length: 1000, 100 bytes, then close
    kChunked,        // `stream_bytes` of PatternByte() in 32 KiB chunks
    kStallInBody,    // Content-Length: 1000, `body`, nothing for `stall`, close
  };
  Kind kind = Kind::kNormal;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  int64_t stream_bytes = 0;
  std::chrono::milliseconds delay{0};  // before replying (kStall: before closing)
  bool close_after = false;            // close silently after the reply
  std::chrono::milliseconds stall{0};  // kStallInBody: the pause mid-body
};

// The byte at `offset` of a kChunked body.
inline char PatternByte(int64_t offset) { return static_cast<char>('a' + offset % 23); }

class TestServer {
 public:
  using Handler = std::function<Reply(const ServerRequest&)>;

  // Plain HTTP when cert_file is empty, else TLS with that PEM chain and key.
  explicit TestServer(Handler handler, std::string cert_file = "", std::string key_file = "");
  ~TestServer();

  uint16_t port() const { return port_; }
  // "http(s)://127.0.0.1:<port><path>"
  std::string Url(const std::string& path) const;

  int connections() const { return connections_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }
  // Connections being served now (a closed one no longer counts).
  int active() const { return active_.load(); }
  int requests() const { return requests_.load(); }
  ServerRequest last_request() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
  std::atomic<int> connections_{0};
  std::atomic<int> active_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  ServerRequest last_request_;
  std::thread thread_;
};

// A handler that answers every request with `reply`.
inline TestServer::Handler Always(Reply reply) {
  return [reply = std::move(reply)](const ServerRequest&) { return reply; };
}

// A handler that sends nothing for `delay`, then closes (Reply::Kind::kStall).
inline TestServer::Handler Stalling(std::chrono::milliseconds delay) {
  return [delay](const ServerRequest&) {
    Reply reply;
    reply.kind = Reply::Kind::kStall;
    reply.delay = delay;
    return reply;
  };
}

// Test PKI made with the openssl command line in a fresh temporary folder:
// a CA, a server certificate for IP 127.0.0.1 and one for DNS "otherhost",
// both signed by the CA.
struct TestPki {
  std::string dir;
  std::string ca_file;
  std::string good_cert, good_key;
  std::string other_cert, other_key;
};
// Empty `dir` on failure (the reason is printed).
TestPki MakeTestPki();

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_HTTP_TEST_SERVER_H_
