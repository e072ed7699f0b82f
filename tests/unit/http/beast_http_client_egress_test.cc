// BeastHttpClient's egress controls: the endpoint filter (checked on the
// resolved address before connecting), the stall timeout and the streamed
// body limit. Loopback only: the filter is exercised with the egress policy
// refusing (or allowing) 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/errors.h"
#include "service/http/beast_http_client.h"
#include "service/http/egress_policy.h"
#include "service/http/retrying_http_client.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/http/counting_sink.h"
#include "tests/unit/http/test_server.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using ::testing::HasSubstr;
using testing::Reply;
using testing::ServerRequest;
using testing::TestServer;
using Clock = std::chrono::steady_clock;
using ::labelport::testing::RunOn;

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  request.idempotent = true;
  request.deadline = absl::Now() + absl::Seconds(10);
  return request;
}

Reply Ok(const ServerRequest&) {
  Reply reply;
  reply.body = "hello";
  return reply;
}

std::unique_ptr<BeastHttpClient> ClientWithPolicy(net::io_context& io,
                                                  absl::string_view allowlist) {
  auto policy = EgressPolicy::Create(allowlist);
  EXPECT_TRUE(policy.ok()) << policy.status();
  BeastHttpClient::Options options;
  options.endpoint_filter = [policy = *policy](absl::string_view host,
                                               const net::ip::address& address) {
    return policy.CheckAddress(host, address);
  };
  auto client = BeastHttpClient::Create(io.get_executor(), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(BeastHttpClientEgressTest, RefusedAddressIsNeverConnectedTo) {
  TestServer server(Ok);
  net::io_context io;
  auto client = ClientWithPolicy(io, "");
  for (const std::string& url : {server.Url("/metrics?sig=secret"),
                                 absl::StrCat("http://localhost:", server.port(), "/metrics")}) {
    auto response = RunOn(io, client->Send(Get(url)));
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied) << url;
    EXPECT_THAT(response.status().message(), HasSubstr("loopback address"));
    EXPECT_THAT(response.status().message(), HasSubstr("/metrics"));
    EXPECT_THAT(std::string(response.status().message()), ::testing::Not(HasSubstr("secret")));
    EXPECT_EQ(common::ErrorReason(response.status()).value_or(""), kEgressDeniedReason);
  }
  EXPECT_EQ(server.connections(), 0);
  EXPECT_EQ(client->stats().connections_opened, 0);
}

TEST(BeastHttpClientEgressTest, AllowlistedAddressIsFetched) {
  TestServer server(Ok);
  net::io_context io;
  auto client = ClientWithPolicy(io, "127.0.0.1/32");
  auto response = RunOn(io, client->Send(Get(server.Url("/media.png"))));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(server.connections(), 1);
}

TEST(BeastHttpClientEgressTest, FilterSeesHostAndEveryResolvedAddress) {
  TestServer server(Ok);
  net::io_context io;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;
  BeastHttpClient::Options options;
  // Refuses 127.0.0.1 (where the server is): whatever else "localhost"
  // resolves to, the server must not be reached.
  options.endpoint_filter = [&](absl::string_view host, const net::ip::address& address) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(std::string(host), address.to_string());
    return address.is_v4() ? absl::PermissionDeniedError("no IPv4") : absl::OkStatus();
  };
  auto client = *BeastHttpClient::Create(io.get_executor(), std::move(options));
  auto response =
      RunOn(io, client->Send(Get(absl::StrCat("http://localhost:", server.port(), "/x"))));
  EXPECT_FALSE(response.ok());
  EXPECT_EQ(server.connections(), 0);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(seen,
              ::testing::Contains(std::pair<std::string, std::string>("localhost", "127.0.0.1")));
}

TEST(BeastHttpClientEgressTest, RefusalIsNotRetried) {
  TestServer server(Ok);
  net::io_context io;
  int calls = 0;
  BeastHttpClient::Options options;
  options.endpoint_filter = [&calls](absl::string_view, const net::ip::address&) {
    ++calls;
    return absl::PermissionDeniedError("refused");
  };
  auto beast = *BeastHttpClient::Create(io.get_executor(), std::move(options));
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(1);
  RetryingHttpClient retrying(beast.get(), policy);
  auto response = RunOn(io, retrying.Send(Get(server.Url("/x"))));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(calls, 1);
}

TEST(BeastHttpClientEgressTest, SilentServerHitsTheStallTimeoutNotTheDeadline) {
  TestServer server(testing::Stalling(std::chrono::seconds(8)));
  net::io_context io;
  auto client = ClientWithPolicy(io, "127.0.0.1/32");
  HttpRequest request = Get(server.Url("/slow"));
  request.stall_timeout = absl::Milliseconds(300);
  const auto start = Clock::now();
  auto response =
      RunOn(io, client->SendStreaming(std::move(request),
                                      [](absl::string_view) -> net::awaitable<absl::Status> {
                                        co_return absl::OkStatus();
                                      }));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(response.status().message(),
              HasSubstr("(stall timeout) while reading the response header"));
  EXPECT_LT(SecondsSince(start), 6.0);
}

TEST(BeastHttpClientEgressTest, BodyThatStopsHitsTheStallTimeout) {
  TestServer server(testing::Always({.kind = Reply::Kind::kStallInBody,
                                     .body = std::string(100, 'x'),
                                     .stall = std::chrono::seconds(8)}));
  net::io_context io;
  auto client = ClientWithPolicy(io, "127.0.0.1/32");
  HttpRequest request = Get(server.Url("/slow"));
  request.stall_timeout = absl::Milliseconds(300);
  int64_t received = 0;
  const auto start = Clock::now();
  auto response =
      RunOn(io, client->SendStreaming(std::move(request), testing::CountingSink(received)));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(response.status().message(),
              HasSubstr("no data for 300ms (stall timeout) while reading the response body"));
  EXPECT_EQ(received, 100);
  EXPECT_LT(SecondsSince(start), 6.0);
}

TEST(BeastHttpClientEgressTest, ContentLengthOverTheLimitIsRefusedBeforeTheBody) {
  TestServer server(testing::Always({.body = std::string(1000, 'x')}));
  net::io_context io;
  auto client = ClientWithPolicy(io, "127.0.0.1/32");
  HttpRequest request = Get(server.Url("/big"));
  request.max_streamed_body_bytes = 999;
  int64_t received = 0;
  auto response = RunOn(io, client->SendStreaming(request, testing::CountingSink(received)));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(response.status().message(), HasSubstr("max_streamed_body_bytes = 999"));
  EXPECT_EQ(received, 0);

  request.max_streamed_body_bytes = 1000;
  response = RunOn(io, client->SendStreaming(request, testing::CountingSink(received)));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(received, 1000);
}

TEST(BeastHttpClientEgressTest, ChunkedBodyOverTheLimitStopsAtTheLimit) {
  TestServer server(
      testing::Always({.kind = Reply::Kind::kChunked, .stream_bytes = int64_t{8} << 20}));
  net::io_context io;
  auto client = ClientWithPolicy(io, "127.0.0.1/32");
  HttpRequest request = Get(server.Url("/endless"));
  request.max_streamed_body_bytes = 100 * 1000;
  int64_t received = 0;
  auto response =
      RunOn(io, client->SendStreaming(std::move(request), testing::CountingSink(received)));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LE(received, 100 * 1000);
}

}  // namespace
}  // namespace labelport::http
