#include "service/http/retrying_http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/http/body_factories.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using ::labelport::testing::RunSync;

// A response of the inner client.
HttpResponse Reply(int status, Headers headers = {}, std::string body = "") {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

// Scripted inner client: each call takes the next of its outcomes.
class FakeHttpClient : public HttpClient {
 public:
  explicit FakeHttpClient(std::vector<absl::StatusOr<HttpResponse>> outcomes)
      : outcomes_(outcomes.begin(), outcomes.end()) {}

  net::awaitable<absl::StatusOr<HttpResponse>> Send(HttpRequest request, int64_t) override {
    requests.push_back(request);
    if (request.body_factory) {
      BodyChunkSource source = request.body_factory();
      std::string body;
      for (;;) {
        auto chunk = co_await source();
        if (!chunk.ok() || chunk->empty()) break;
        body += *chunk;
      }
      bodies.push_back(body);
    }
    co_return Next();
  }

  net::awaitable<absl::StatusOr<HttpResponse>> SendStreaming(HttpRequest request,
                                                             BodyChunkSink sink) override {
    requests.push_back(request);
    auto next = Next();
    if (next.ok() && !next->body.empty()) {
      absl::Status status = co_await sink(next->body);
      if (!status.ok()) co_return status;
      next->body.clear();
    }
    co_return next;
  }

  std::vector<HttpRequest> requests;
  std::vector<std::string> bodies;

 private:
  absl::StatusOr<HttpResponse> Next() {
    if (outcomes_.empty()) return absl::InternalError("fake: no more outcomes");
    auto next = std::move(outcomes_.front());
    outcomes_.pop_front();
    return next;
  }
  std::deque<absl::StatusOr<HttpResponse>> outcomes_;
};

RetryPolicy FastPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_backoff = absl::Milliseconds(10);
  policy.max_backoff = absl::Milliseconds(50);
  policy.jitter = 0.5;
  return policy;
}

HttpRequest Get(bool idempotent = true) {
  HttpRequest request;
  request.url = "https://darwin.example/api/items?token=secret";
  request.idempotent = idempotent;
  return request;
}

absl::StatusOr<HttpResponse> SendNow(HttpClient& client, HttpRequest request) {
  return RunSync(client.Send(std::move(request)));
}

// Sends `request` with SendStreaming; appends the chunks the sink gets to
// `received`.
absl::StatusOr<HttpResponse> SendStreamingNow(HttpClient& client, HttpRequest request,
                                              std::string* received) {
  return RunSync(client.SendStreaming(
      std::move(request), [received](absl::string_view chunk) -> net::awaitable<absl::Status> {
        absl::StrAppend(received, chunk);
        co_return absl::OkStatus();
      }));
}

RetryingHttpClient::Hooks Recording(std::vector<RetryEvent>& events) {
  RetryingHttpClient::Hooks hooks;
  hooks.on_event = [&events](const RetryEvent& e) { events.push_back(e); };
  return hooks;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(RetryingHttpClientTest, HonoursRetryAfterOn429) {
  FakeHttpClient fake({Reply(429, {{"Retry-After", "1"}}), Reply(200, {}, "ok")});
  std::vector<RetryEvent> events;
  RetryingHttpClient client(&fake, FastPolicy(), Recording(events));
  const auto start = Clock::now();
  auto response = SendNow(client, Get());
  const double elapsed = SecondsSince(start);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
  EXPECT_GE(elapsed, 0.95);
  EXPECT_LT(elapsed, 2.5);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RetryEvent::Kind::kRetry);
  EXPECT_EQ(events[0].http_status, 429);
  EXPECT_EQ(events[0].delay, absl::Seconds(1));
  EXPECT_EQ(events[0].url, "https://darwin.example:443/api/items");
  EXPECT_EQ(client.stats().attempts, 2);
  EXPECT_EQ(client.stats().retries, 1);
}

// Which outcomes are retried: a request (idempotent or a POST), the inner
// client's outcomes in turn, and what the caller gets (an HTTP status or the
// code of a transport error) after how many attempts.
struct RetryCase {
  std::string name;
  bool idempotent;
  std::vector<absl::StatusOr<HttpResponse>> outcomes;
  absl::StatusOr<int> result;
  int attempts;
};

TEST(RetryingHttpClientTest, RetriedOutcomes) {
  const absl::Status reset = absl::UnavailableError("connection reset");
  const absl::Status timeout = absl::DeadlineExceededError("attempt timed out");
  const absl::Status bad_url = absl::InvalidArgumentError("bad url");
  const RetryCase cases[] = {
      {"two 503 then 200", true, {Reply(503), Reply(503), Reply(200)}, 200, 3},
      {"transport errors", true, {reset, timeout, Reply(200)}, 200, 3},
      {"other error", true, {bad_url, Reply(200)}, bad_url, 1},
      {"other status", true, {Reply(404), Reply(200)}, 404, 1},
      {"POST 500", false, {Reply(500), Reply(200)}, 500, 1},
      {"POST transport error", false, {reset, Reply(200)}, reset, 1},
      {"POST 429", false, {Reply(429), Reply(201)}, 201, 2},
  };
  for (const RetryCase& c : cases) {
    SCOPED_TRACE(c.name);
    FakeHttpClient fake(c.outcomes);
    RetryingHttpClient client(&fake, FastPolicy());
    HttpRequest request = Get(c.idempotent);
    if (!c.idempotent) request.method = "POST";
    auto response = SendNow(client, request);
    if (c.result.ok()) {
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->status, *c.result);
    } else {
      EXPECT_EQ(response.status().code(), c.result.status().code()) << response.status();
    }
    EXPECT_EQ(fake.requests.size(), static_cast<size_t>(c.attempts));
    EXPECT_EQ(client.stats().retries, c.attempts - 1);
  }
}

TEST(RetryingHttpClientTest, ExhaustedBudgetReturnsLast503) {
  std::vector<absl::StatusOr<HttpResponse>> outcomes;
  for (int i = 0; i < 4; ++i) outcomes.push_back(Reply(503, {}, absl::StrCat("attempt ", i + 1)));
  outcomes.push_back(Reply(200));
  FakeHttpClient fake(std::move(outcomes));
  std::vector<RetryEvent> events;
  RetryingHttpClient client(&fake, FastPolicy(), Recording(events));
  auto response = SendNow(client, Get());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "attempt 4");
  EXPECT_EQ(fake.requests.size(), 4u);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events.back().kind, RetryEvent::Kind::kGiveUp);
  EXPECT_EQ(client.stats().gave_up, 1);
}

TEST(RetryingHttpClientTest, DeadlineBoundsTotalRetryTime) {
  FakeHttpClient fake(std::vector<absl::StatusOr<HttpResponse>>(100, Reply(503)));
  RetryPolicy policy = FastPolicy();
  policy.max_attempts = 100;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(100);
  policy.jitter = 0;
  RetryingHttpClient client(&fake, policy);
  HttpRequest request = Get();
  request.deadline = absl::Now() + absl::Milliseconds(450);
  const auto start = Clock::now();
  auto response = SendNow(client, request);
  const double elapsed = SecondsSince(start);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
  EXPECT_LT(elapsed, 0.45);
  EXPECT_GE(fake.requests.size(), 3u);
  EXPECT_LE(fake.requests.size(), 5u);
}

TEST(RetryingHttpClientTest, RetryAfterBeyondDeadlineReturnsAtOnce) {
  FakeHttpClient fake({Reply(429, {{"Retry-After", "30"}}), Reply(200)});
  RetryingHttpClient client(&fake, FastPolicy());
  HttpRequest request = Get();
  request.deadline = absl::Now() + absl::Seconds(5);
  const auto start = Clock::now();
  auto response = SendNow(client, request);
  EXPECT_LT(SecondsSince(start), 0.5);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 429);
}

TEST(RetryingHttpClientTest, PerAttemptTimeoutShortensAttemptDeadline) {
  FakeHttpClient fake({Reply(200)});
  RetryPolicy policy = FastPolicy();
  policy.per_attempt_timeout = absl::Seconds(2);
  RetryingHttpClient client(&fake, policy);
  ASSERT_TRUE(SendNow(client, Get()).ok());
  ASSERT_EQ(fake.requests.size(), 1u);
  EXPECT_LT(fake.requests[0].deadline, absl::Now() + absl::Seconds(3));
}

TEST(RetryingHttpClientTest, PermanentHookStopsRetry) {
  FakeHttpClient fake(
      {Reply(429, {}, R"({"errors":{"code":"INSUFFICIENT_REMAINING_STORAGE"}})"), Reply(200)});
  RetryPolicy policy = FastPolicy();
  policy.is_permanent = [](const HttpResponse& r) {
    return r.body.find("INSUFFICIENT_REMAINING_STORAGE") != std::string::npos;
  };
  RetryingHttpClient client(&fake, policy);
  EXPECT_EQ(SendNow(client, Get())->status, 429);
  EXPECT_EQ(fake.requests.size(), 1u);
}

TEST(RetryingHttpClientTest, BodyFactoryCalledPerAttempt) {
  FakeHttpClient fake({Reply(503), Reply(200)});
  RetryingHttpClient client(&fake, FastPolicy());
  HttpRequest put = Get();
  put.method = "PUT";
  put.body_size = 5;
  put.body_factory = testing::OneChunkBody("hello");
  ASSERT_TRUE(SendNow(client, put).ok());
  EXPECT_EQ(fake.bodies, (std::vector<std::string>{"hello", "hello"}));
}

// A streamed response is retried only while the sink has had nothing: the
// first attempt's response, what the caller gets and the sink received.
struct StreamingCase {
  std::string name;
  HttpResponse first;
  int status;
  std::string received;
  int attempts;
};

TEST(RetryingHttpClientTest, StreamingRetriedOnlyBeforeTheSinkIsCalled) {
  const StreamingCase cases[] = {
      {"sink called", Reply(503, {}, "busy"), 503, "busy", 1},
      {"sink not called", Reply(503), 200, "data", 2},
  };
  for (const StreamingCase& c : cases) {
    SCOPED_TRACE(c.name);
    FakeHttpClient fake({c.first, Reply(200, {}, "data")});
    RetryingHttpClient client(&fake, FastPolicy());
    std::string received;
    auto response = SendStreamingNow(client, Get(), &received);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, c.status);
    EXPECT_EQ(received, c.received);
    EXPECT_EQ(fake.requests.size(), static_cast<size_t>(c.attempts));
  }
}

}  // namespace
}  // namespace labelport::http
