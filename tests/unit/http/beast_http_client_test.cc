#include "service/http/beast_http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/http/retrying_http_client.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/common/wait_until.h"
#include "tests/unit/http/body_factories.h"
#include "tests/unit/http/counting_sink.h"
#include "tests/unit/http/test_server.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Reply;
using testing::ServerRequest;
using testing::TestServer;
using Clock = std::chrono::steady_clock;
using ::labelport::testing::RunOn;

std::unique_ptr<BeastHttpClient> MakeClient(net::io_context& io,
                                            BeastHttpClient::Options options = {}) {
  auto client = BeastHttpClient::Create(io.get_executor(), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

BeastHttpClient::Options WithMaxConnections(int n) {
  BeastHttpClient::Options options;
  options.max_connections_per_host = n;
  return options;
}

BeastHttpClient::Options WithCaFile(std::string ca_file) {
  BeastHttpClient::Options options;
  options.ca_file = std::move(ca_file);
  return options;
}

HttpRequest Request(const std::string& method, const std::string& url, std::string body = "") {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.body = std::move(body);
  request.idempotent = method != "POST";
  request.deadline = absl::Now() + absl::Seconds(10);
  return request;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Reply Echo(const ServerRequest& request) {
  Reply reply;
  reply.status = request.method == "POST" ? 201 : 200;
  reply.headers = {{"X-Echo-Header", request.Header("X-Test")}, {"Content-Type", "text/plain"}};
  reply.body = absl::StrCat(request.method, " ", request.target, " ", request.body);
  return reply;
}

// Echo after `delay`.
TestServer::Handler EchoAfter(std::chrono::milliseconds delay) {
  return [delay](const ServerRequest& r) {
    Reply reply = Echo(r);
    reply.delay = delay;
    return reply;
  };
}

// Sends GETs of /0 ... /<count - 1> at once, runs `io` on `threads` threads
// until all are answered and returns their results in that order.
std::vector<absl::StatusOr<HttpResponse>> GetConcurrently(net::io_context& io, HttpClient& client,
                                                          const TestServer& server, int count,
                                                          int threads) {
  std::vector<std::future<absl::StatusOr<HttpResponse>>> futures;
  for (int i = 0; i < count; ++i) {
    futures.push_back(net::co_spawn(
        io, client.Send(Request("GET", server.Url(absl::StrCat("/", i)))), net::use_future));
  }
  std::vector<std::thread> runners;
  for (int t = 0; t < threads; ++t) runners.emplace_back([&] { io.run(); });
  for (std::thread& t : runners) t.join();
  std::vector<absl::StatusOr<HttpResponse>> results;
  for (auto& future : futures) results.push_back(future.get());
  return results;
}

TEST(BeastHttpClientTest, RejectsBadOptions) {
  net::io_context io;
  EXPECT_EQ(BeastHttpClient::Create(io.get_executor(), WithMaxConnections(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
  BeastHttpClient::Options missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(BeastHttpClient::Create(io.get_executor(), missing_ca).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(BeastHttpClientTest, RoundTripsGetPostPut) {
  TestServer server(Echo);
  net::io_context io;
  auto client = MakeClient(io);
  for (const char* method : {"GET", "POST", "PUT"}) {
    HttpRequest request = Request(method, server.Url("/api/items?x=1"),
                                  std::string(method) == "GET" ? "" : "{\"a\":1}");
    request.headers = {{"X-Test", "hello"}, {"Authorization", "ApiKey secret"}};
    auto response = RunOn(io, client->Send(request));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, std::string(method) == "POST" ? 201 : 200);
    EXPECT_EQ(response->body, absl::StrCat(method, " /api/items?x=1 ", request.body));
    EXPECT_EQ(response->Header("x-echo-header"), "hello");
    EXPECT_EQ(response->Header("content-type"), "text/plain");
    const ServerRequest seen = server.last_request();
    EXPECT_EQ(seen.Header("Authorization"), "ApiKey secret");
    EXPECT_EQ(seen.Header("Host"), absl::StrCat("127.0.0.1:", server.port()));
    EXPECT_EQ(seen.Header("User-Agent"), "labelport/0.1");
    EXPECT_FALSE(seen.HasHeader("Accept-Encoding"));
  }
}

TEST(BeastHttpClientTest, RejectsMalformedRequests) {
  net::io_context io;
  auto client = MakeClient(io);
  auto bad_url = RunOn(io, client->Send(Request("GET", "ftp://x/y?token=secret")));
  EXPECT_EQ(bad_url.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_url.status().message()), Not(HasSubstr("secret")));
  auto bad_method = RunOn(io, client->Send(Request("FROB", "http://127.0.0.1:1/")));
  EXPECT_EQ(bad_method.status().code(), absl::StatusCode::kInvalidArgument);
  HttpRequest bad_header = Request("GET", "http://127.0.0.1:1/");
  bad_header.headers = {{"Authorization", "ApiKey secret\r\nX-Injected: 1"}};
  auto injected = RunOn(io, client->Send(bad_header));
  EXPECT_EQ(injected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(injected.status().message()), Not(HasSubstr("secret")));
}

TEST(BeastHttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    TestServer server(Echo);
    port = server.port();
  }
  net::io_context io;
  auto client = MakeClient(io);
  auto response = RunOn(
      io, client->Send(Request("GET", absl::StrCat("http://127.0.0.1:", port, "/x?token=secret"))));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
  EXPECT_THAT(std::string(response.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", port, "/x")));
  EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("secret")));
}

TEST(BeastHttpClientTest, KeepAliveReusesOneConnection) {
  TestServer server(Echo);
  net::io_context io;
  auto client = MakeClient(io);
  auto task = [&]() -> net::awaitable<int> {
    int ok = 0;
    for (int i = 0; i < 20; ++i) {
      auto response = co_await client->Send(Request("GET", server.Url(absl::StrCat("/", i))));
      if (response.ok() && response->status == 200) ++ok;
    }
    co_return ok;
  };
  EXPECT_EQ(RunOn(io, task()), 20);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client->stats().connections_opened, 1);
  EXPECT_EQ(client->stats().connections_reused, 19);
}

TEST(BeastHttpClientTest, ServerClosingIdleConnectionIsHandled) {
  TestServer server([](const ServerRequest& r) {
    Reply reply = Echo(r);
    reply.close_after = true;  // closes without saying so
    return reply;
  });
  net::io_context io;
  auto client = MakeClient(io);
  for (int i = 0; i < 3; ++i) {
    HttpRequest request = Request("POST", server.Url("/create"), "x");
    auto response = RunOn(io, client->Send(request));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 201);
    // The server has closed the connection the client keeps for reuse.
    ASSERT_TRUE(::labelport::testing::WaitUntil([&] { return server.active() == 0; },
                                                absl::Seconds(10), "the server's close"));
  }
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(server.requests(), 3);
}

// Concurrent GETs, sent at once and answered after a delay, from one thread
// or several: each gets its own answer, and no more than the client's
// connection limit are open or served at a time.
TEST(BeastHttpClientTest, ConcurrencyIsBoundedPerHost) {
  struct Case {
    std::chrono::milliseconds delay;
    int max_connections;
    int count;
    int threads;
  };
  for (const Case& c : {Case{std::chrono::milliseconds(50), 2, 10, 1},
                        Case{std::chrono::milliseconds(5), 3, 60, 4}}) {
    SCOPED_TRACE(absl::StrCat(c.count, " calls from ", c.threads, " thread(s)"));
    TestServer server(EchoAfter(c.delay));
    net::io_context io;
    auto client = MakeClient(io, WithMaxConnections(c.max_connections));
    const std::vector<absl::StatusOr<HttpResponse>> responses =
        GetConcurrently(io, *client, server, c.count, c.threads);
    for (int i = 0; i < c.count; ++i) {
      const auto& response = responses[i];
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(response->body, absl::StrCat("GET /", i, " "));
    }
    EXPECT_LE(server.max_concurrent(), c.max_connections);
    EXPECT_LE(server.connections(), c.max_connections);
  }
}

TEST(BeastHttpClientTest, StallingServerHitsDeadline) {
  TestServer server(testing::Stalling(std::chrono::milliseconds(3000)));
  net::io_context io;
  auto client = MakeClient(io);
  HttpRequest request = Request("GET", server.Url("/slow"));
  request.deadline = absl::Now() + absl::Milliseconds(300);
  const auto start = Clock::now();
  auto response = RunOn(io, client->Send(request));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_LT(SecondsSince(start), 1.5);
}

TEST(BeastHttpClientTest, WaitingForAConnectionIsBoundedByTheDeadline) {
  TestServer server([](const ServerRequest& r) {
    Reply reply = Echo(r);
    reply.delay = std::chrono::milliseconds(r.target == "/slow" ? 800 : 0);
    return reply;
  });
  net::io_context io;
  auto client = MakeClient(io, WithMaxConnections(1));
  auto slow = net::co_spawn(io, client->Send(Request("GET", server.Url("/slow"))), net::use_future);
  HttpRequest quick = Request("GET", server.Url("/quick"));
  quick.deadline = absl::Now() + absl::Milliseconds(200);
  auto waiting = net::co_spawn(io, client->Send(quick), net::use_future);
  io.run();
  EXPECT_EQ(waiting.get().status().code(), absl::StatusCode::kDeadlineExceeded);
  auto slow_response = slow.get();
  ASSERT_TRUE(slow_response.ok()) << slow_response.status();
  // The slot came back: another request goes through.
  auto after = RunOn(io, client->Send(Request("GET", server.Url("/quick"))));
  ASSERT_TRUE(after.ok()) << after.status();
}

// How the server shuts down: the io_context stops with calls suspended (one
// in an exchange, one waiting for the only connection), the client is
// destroyed, then the io_context, which destroys the calls' coroutines. They
// give their connection and their place in the queue back to pool state
// they share with the client, not to the destroyed client (ASan reports a
// heap-use-after-free otherwise).
TEST(BeastHttpClientTest, CallsSuspendedInAStoppedIoContextMayOutliveTheClient) {
  TestServer server(testing::Stalling(std::chrono::milliseconds(5000)));
  auto io = std::make_unique<net::io_context>();
  auto client = MakeClient(*io, WithMaxConnections(1));
  for (int i = 0; i < 2; ++i) {
    net::co_spawn(*io, client->Send(Request("GET", server.Url("/held"))), net::detached);
  }
  const auto limit = Clock::now() + std::chrono::seconds(10);
  while (server.requests() < 1 && Clock::now() < limit) {
    io->run_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server.requests(), 1);
  io->stop();
  client.reset();
  io.reset();
}

// A response the server breaks off (in its header, or short of its
// Content-Length) ends the call UNAVAILABLE, streamed or not, naming the URL.
TEST(BeastHttpClientTest, BrokenOffResponsesAreUnavailable) {
  const std::pair<Reply::Kind, std::string> cases[] = {{Reply::Kind::kDropInHeader, "/drop"},
                                                       {Reply::Kind::kTruncatedBody, "/short"}};
  for (const auto& [kind, path] : cases) {
    SCOPED_TRACE(path);
    TestServer server(testing::Always({.kind = kind}));
    net::io_context io;
    auto client = MakeClient(io);
    auto response = RunOn(io, client->Send(Request("GET", server.Url(path))));
    EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
    EXPECT_THAT(std::string(response.status().message()), HasSubstr(path));
    auto streamed =
        RunOn(io, client->SendStreaming(Request("GET", server.Url(path)),
                                        [](absl::string_view) -> net::awaitable<absl::Status> {
                                          co_return absl::OkStatus();
                                        }));
    EXPECT_EQ(streamed.status().code(), absl::StatusCode::kUnavailable) << streamed.status();
  }
}

TEST(BeastHttpClientTest, BodyLimitIsResourceExhausted) {
  TestServer server([](const ServerRequest& r) {
    Reply reply;
    if (r.target == "/chunked") {
      reply.kind = Reply::Kind::kChunked;
      reply.stream_bytes = 1 << 20;
    } else {
      reply.body = std::string(100000, 'x');
    }
    return reply;
  });
  net::io_context io;
  auto client = MakeClient(io);
  for (const char* path : {"/fixed", "/chunked"}) {
    auto response = RunOn(io, client->Send(Request("GET", server.Url(path)), 1000));
    EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted)
        << path << ": " << response.status();
  }
  auto fits = RunOn(io, client->Send(Request("GET", server.Url("/fixed")), 100000));
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->body.size(), 100000u);
}

std::string UploadPattern(int64_t size) {
  std::string out(size, '\0');
  for (int64_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 7 + i / 4096) % 256);
  return out;
}

TEST(BeastHttpClientTest, StreamedUploadArrivesIntact) {
  TestServer server([](const ServerRequest& r) {
    Reply reply;
    reply.body = std::to_string(r.body.size());
    return reply;
  });
  net::io_context io;
  auto client = MakeClient(io);
  const int64_t size = 5 << 20;
  const std::string expected = UploadPattern(size);
  int factory_calls = 0;
  HttpRequest request = Request("PUT", server.Url("/upload?X-Amz-Signature=abc"));
  request.body_size = size;
  request.body_factory = [&] {
    ++factory_calls;
    auto offset = std::make_shared<int64_t>(0);
    return BodyChunkSource([&, offset]() -> net::awaitable<absl::StatusOr<std::string>> {
      const int64_t n = std::min<int64_t>(64 * 1024 + 3, size - *offset);
      std::string chunk = expected.substr(*offset, n);
      *offset += n;
      co_return chunk;
    });
  };
  auto response = RunOn(io, client->Send(request));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, std::to_string(size));
  EXPECT_EQ(factory_calls, 1);
  const ServerRequest seen = server.last_request();
  EXPECT_EQ(seen.Header("Content-Length"), std::to_string(size));
  EXPECT_TRUE(seen.body == expected);
}

TEST(BeastHttpClientTest, BodySourceSizeMismatchIsInvalidArgument) {
  TestServer server(Echo);
  net::io_context io;
  auto client = MakeClient(io);
  HttpRequest request = Request("PUT", server.Url("/upload"));
  request.body_size = 10;
  request.body_factory = testing::OneChunkBody("short");
  auto response = RunOn(io, client->Send(request));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  // The connection was dropped, not left half-written: the next call works.
  auto next = RunOn(io, client->Send(Request("GET", server.Url("/ok"))));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200);
}

TEST(BeastHttpClientTest, StreamsLargeChunkedResponseInConstantMemory) {
  constexpr int64_t kTotal = 20 << 20;
  TestServer server(testing::Always({.kind = Reply::Kind::kChunked, .stream_bytes = kTotal}));
  net::io_context io;
  auto client = MakeClient(io);
  int64_t received = 0;
  size_t largest_chunk = 0;
  bool pattern_ok = true;
  const size_t heap_before = mallinfo2().uordblks;
  size_t heap_peak = heap_before;
  HttpRequest request = Request("GET", server.Url("/export.zip"));
  // Checking 20 MiB byte by byte takes over 10 s in a TSan build.
  request.deadline = absl::Now() + absl::Minutes(2);
  auto response = RunOn(
      io,
      client->SendStreaming(request, [&](absl::string_view chunk) -> net::awaitable<absl::Status> {
        for (size_t i = 0; i < chunk.size(); ++i) {
          pattern_ok = pattern_ok && chunk[i] == testing::PatternByte(received + i);
        }
        received += chunk.size();
        largest_chunk = std::max(largest_chunk, chunk.size());
        heap_peak = std::max(heap_peak, mallinfo2().uordblks);
        co_return absl::OkStatus();
      }));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_EQ(response->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(pattern_ok);
  EXPECT_LE(largest_chunk, 64u * 1024);
  EXPECT_LT(heap_peak - heap_before, size_t{4} << 20);
}

TEST(BeastHttpClientTest, StreamingSinkErrorAborts) {
  TestServer server(testing::Always({.kind = Reply::Kind::kChunked, .stream_bytes = 1 << 20}));
  net::io_context io;
  auto client = MakeClient(io);
  auto response =
      RunOn(io, client->SendStreaming(Request("GET", server.Url("/x")),
                                      [](absl::string_view) -> net::awaitable<absl::Status> {
                                        co_return absl::DataLossError("disk full");
                                      }));
  EXPECT_EQ(response.status(), absl::DataLossError("disk full"));
}

TEST(BeastHttpClientTest, RetryingClientOverRealServer) {
  std::atomic<int> calls{0};
  TestServer server([&](const ServerRequest& r) {
    Reply reply = Echo(r);
    if (++calls <= 2) reply.status = 503;
    return reply;
  });
  net::io_context io;
  auto beast = MakeClient(io);
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(10);
  RetryingHttpClient client(beast.get(), policy);
  auto response = RunOn(io, client.Send(Request("GET", server.Url("/flaky"))));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(server.connections(), 1);
}

class BeastHttpClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new testing::TestPki(testing::MakeTestPki()); }
  static void TearDownTestSuite() {
    if (!pki_->dir.empty()) std::filesystem::remove_all(pki_->dir);
    delete pki_;
  }
  void SetUp() override { ASSERT_FALSE(pki_->dir.empty()) << "could not make the test PKI"; }
  static testing::TestPki* pki_;
};
testing::TestPki* BeastHttpClientTlsTest::pki_ = nullptr;

TEST_F(BeastHttpClientTlsTest, TrustedCertificateWorks) {
  TestServer server(Echo, pki_->good_cert, pki_->good_key);
  net::io_context io;
  auto client = MakeClient(io, WithCaFile(pki_->ca_file));
  for (int i = 0; i < 3; ++i) {
    auto response = RunOn(io, client->Send(Request("POST", server.Url("/secure"), "body")));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "POST /secure body");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(BeastHttpClientTlsTest, UntrustedCertificateFails) {
  TestServer server(Echo, pki_->good_cert, pki_->good_key);
  net::io_context io;
  auto client = MakeClient(io);
  auto response = RunOn(io, client->Send(Request("GET", server.Url("/secure"))));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("TLS handshake"));
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(BeastHttpClientTlsTest, HostNameMismatchFails) {
  TestServer server(Echo, pki_->other_cert, pki_->other_key);
  net::io_context io;
  auto client = MakeClient(io, WithCaFile(pki_->ca_file));
  auto response = RunOn(io, client->Send(Request("GET", server.Url("/secure"))));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("TLS handshake"));
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("mismatch"));
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(BeastHttpClientTlsTest, StreamedUploadAndDownloadOverTls) {
  TestServer server(
      [](const ServerRequest& r) {
        Reply reply;
        if (r.method == "PUT") {
          reply.body = std::to_string(r.body.size());
        } else {
          reply.kind = Reply::Kind::kChunked;
          reply.stream_bytes = 3 << 20;
        }
        return reply;
      },
      pki_->good_cert, pki_->good_key);
  net::io_context io;
  auto client = MakeClient(io, WithCaFile(pki_->ca_file));
  HttpRequest put = Request("PUT", server.Url("/up"));
  put.body_size = 1 << 20;
  put.body_factory = [] {
    auto left = std::make_shared<int64_t>(1 << 20);
    return BodyChunkSource([left]() -> net::awaitable<absl::StatusOr<std::string>> {
      const int64_t n = std::min<int64_t>(*left, 100000);
      *left -= n;
      co_return std::string(n, 'z');
    });
  };
  auto uploaded = RunOn(io, client->Send(put));
  ASSERT_TRUE(uploaded.ok()) << uploaded.status();
  EXPECT_EQ(uploaded->body, std::to_string(1 << 20));
  int64_t received = 0;
  auto downloaded = RunOn(io, client->SendStreaming(Request("GET", server.Url("/down")),
                                                    testing::CountingSink(received)));
  ASSERT_TRUE(downloaded.ok()) << downloaded.status();
  EXPECT_EQ(received, 3 << 20);
}

}  // namespace
}  // namespace labelport::http
