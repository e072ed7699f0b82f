// Stress test of BeastHttpClient's connection pool, strands and lifetimes:
// hundreds of concurrent requests from four io_context threads over three
// pooled keep-alive connections, against an in-process server on 127.0.0.1
// that adds latency, holds requests, truncates responses, streams bodies and
// closes keep-alive connections between responses without saying so.
// Deadlines expire mid-exchange; callers on strands cancel requests with
// `request || timer` (some while the response is still missing, some about
// when it completes) or with a signal emitted as a streamed response's middle
// or last byte arrives.
//
// Built for the sanitizers too (bash .ci/sanitize address|thread --test
// Stress): a cancellation or a use of a connection that strays off the
// connection's strand, or outlives the exchange, shows up as a report there,
// and as a crash in a normal build.
// Every request's outcome is checked against what its mode allows; timing
// only decides which of the allowed outcomes a racing request gets.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "service/http/beast_http_client.h"
#include "tests/unit/http/read_request.h"

namespace labelport::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto kTok = net::as_tuple(net::use_awaitable);

// What the server does with a request: /r/<id>/<mode>/<delay_us>/<size>.
enum class Mode {
  kOk,          // after the delay: 200, `size` body bytes, Content-Length
  kCloseAfter,  // kOk, then closes the keep-alive connection silently
  kChunked,     // after the delay: 200, `size` bytes in small chunks
  kTruncate,    // announces `size` bytes, sends half, closes
  kHold,        // never answers; waits for the client to close
  kHoldBody,    // announces `size` bytes, sends half, waits for the client
  kBarrier,     // answers once `barrier` requests are waiting at once
};

constexpr std::array<const char*, 7> kModeNames = {"ok",   "close_after", "chunked", "truncate",
                                                   "hold", "hold_body",   "barrier"};

// Response body byte `k` of request `id`.
char BodyByte(int id, int64_t k) { return static_cast<char>('a' + (id * 31 + k) % 26); }

std::string Body(int id, int64_t size) {
  std::string out(static_cast<size_t>(size), '\0');
  for (int64_t k = 0; k < size; ++k) out[static_cast<size_t>(k)] = BodyByte(id, k);
  return out;
}

// Request body byte `k` of request `id`.
char UploadByte(int id, int64_t k) { return static_cast<char>((id * 13 + k * 7 + k / 4096) % 256); }

uint64_t Fnv1a(absl::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A keep-alive HTTP/1.1 server on its own thread. Answers in the order the
// modes above say and counts what it did.
class StressServer {
 public:
  static constexpr int kMaxIds = 4096;

  explicit StressServer(int barrier = 0) : acceptor_(io_), barrier_(barrier) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(io_, Accept(), net::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StressServer() {
    io_.stop();
    thread_.join();
  }

  std::string Url(int id, Mode mode, std::chrono::microseconds delay, int64_t size) const {
    return absl::StrCat("http://127.0.0.1:", port_, "/r/", id, "/",
                        kModeNames[static_cast<size_t>(mode)], "/", delay.count(), "/", size);
  }
  // Whether the whole response to request `id` was written.
  bool Answered(int id) const { return answered_[static_cast<size_t>(id)].load(); }
  int connections() const { return connections_.load(); }
  int silent_closes() const { return silent_closes_.load(); }

 private:
  struct Spec {
    int id = 0;
    Mode mode = Mode::kOk;
    std::chrono::microseconds delay{0};
    int64_t size = 0;
  };

  static bool Parse(absl::string_view target, Spec& spec) {
    std::vector<absl::string_view> parts = absl::StrSplit(target, '/');
    if (parts.size() != 6 || parts[1] != "r") return false;
    int64_t delay = 0;
    if (!absl::SimpleAtoi(parts[2], &spec.id) || spec.id < 0 || spec.id >= kMaxIds ||
        !absl::SimpleAtoi(parts[4], &delay) || !absl::SimpleAtoi(parts[5], &spec.size)) {
      return false;
    }
    spec.delay = std::chrono::microseconds(delay);
    for (size_t m = 0; m < kModeNames.size(); ++m) {
      if (parts[3] == kModeNames[m]) {
        spec.mode = static_cast<Mode>(m);
        return true;
      }
    }
    return false;
  }

  static void Close(tcp::socket& socket) {
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  // Reads until the client closes the connection (or sends anything).
  static net::awaitable<void> WaitForClient(tcp::socket& socket) {
    char byte;
    co_await socket.async_read_some(net::buffer(&byte, 1), kTok);
    Close(socket);
  }

  net::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTok);
      if (ec) co_return;
      ++connections_;
      // Small writes go out at once (no Nagle delay against delayed ACKs).
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      net::co_spawn(io_, Session(std::move(socket)), net::detached);
    }
  }

  net::awaitable<void> Session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      const std::optional<testing::ServedRequest> next =
          co_await testing::ReadRequest(socket, buffer, 16 << 20);
      if (!next) co_return;
      Spec spec;
      const beast::string_view target = next->target();
      if (!Parse(absl::string_view(target.data(), target.size()), spec)) {
        ADD_FAILURE() << "stress server: bad target " << target;
        co_return;
      }
      const std::string sum = absl::StrCat(Fnv1a(next->body()));
      if (spec.delay.count() > 0) {
        net::steady_timer timer(io_, spec.delay);
        co_await timer.async_wait(kTok);
      }
      if (!co_await Reply(socket, spec, sum)) co_return;
    }
  }

  // Answers one request; false when the connection is closed (or to be).
  net::awaitable<bool> Reply(tcp::socket& socket, const Spec& spec, const std::string& sum) {
    const std::string body = Body(spec.id, spec.size);
    switch (spec.mode) {
      case Mode::kBarrier:
        if (++barrier_waiting_ < barrier_) {
          net::steady_timer wait(io_, net::steady_timer::time_point::max());
          barrier_timers_.push_back(&wait);
          co_await wait.async_wait(kTok);
        } else {
          for (net::steady_timer* t : barrier_timers_) t->cancel();
          barrier_timers_.clear();
        }
        [[fallthrough]];
      case Mode::kOk:
      case Mode::kCloseAfter: {
        const std::string head = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                              "\r\nX-Body-Sum: ", sum, "\r\n\r\n");
        auto [ec, n] = co_await net::async_write(
            socket, std::array{net::buffer(head), net::buffer(body)}, kTok);
        if (ec) co_return false;
        answered_[static_cast<size_t>(spec.id)] = true;
        if (spec.mode == Mode::kCloseAfter) {
          ++silent_closes_;
          Close(socket);
          co_return false;
        }
        co_return true;
      }
      case Mode::kChunked: {
        const std::string head = absl::StrCat(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Body-Sum: ", sum, "\r\n\r\n");
        auto [ec, n] = co_await net::async_write(socket, net::buffer(head), kTok);
        if (ec) co_return false;
        for (size_t offset = 0; offset < body.size();) {
          const size_t size = std::min<size_t>(5000, body.size() - offset);
          const std::string chunk =
              absl::StrCat(absl::StrFormat("%x\r\n", size), body.substr(offset, size), "\r\n");
          offset += size;
          auto [cec, cn] = co_await net::async_write(socket, net::buffer(chunk), kTok);
          if (cec) co_return false;
        }
        auto [eec, en] = co_await net::async_write(socket, net::buffer("0\r\n\r\n", 5), kTok);
        if (eec) co_return false;
        answered_[static_cast<size_t>(spec.id)] = true;
        co_return true;
      }
      case Mode::kTruncate:
      case Mode::kHoldBody: {
        const std::string part = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(),
                                              "\r\n\r\n", body.substr(0, body.size() / 2));
        auto [ec, n] = co_await net::async_write(socket, net::buffer(part), kTok);
        if (ec) co_return false;
        if (spec.mode == Mode::kTruncate) {
          Close(socket);
        } else {
          co_await WaitForClient(socket);
        }
        co_return false;
      }
      case Mode::kHold:
        co_await WaitForClient(socket);
        co_return false;
    }
    co_return false;
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::array<std::atomic<bool>, kMaxIds> answered_{};
  std::atomic<int> connections_{0};
  std::atomic<int> silent_closes_{0};
  // Server thread only.
  const int barrier_;
  int barrier_waiting_ = 0;
  std::vector<net::steady_timer*> barrier_timers_;
};

// The request plan of request `i`: cycles through twelve kinds.
struct Plan {
  enum class Call { kSend, kStreamedUpload, kSendStreaming };
  Mode mode = Mode::kOk;
  Call call = Call::kSend;
  std::string method = "GET";
  std::chrono::microseconds delay{0};
  int64_t size = 0;
  int64_t upload_size = 0;
  absl::Duration deadline = absl::Seconds(20);
  // When set, callers on a strand race the request against this timer.
  std::optional<std::chrono::microseconds> caller_timer{};
  // Outcomes the plan allows besides victims of a silently closed connection.
  bool may_succeed = true;
  bool may_time_out = false;
  bool truncated = false;
};

Plan PlanFor(int i) {
  using std::chrono::microseconds;
  const int64_t spread = (i * 373) % 6000;  // 0..6 ms, different for neighbours
  switch (i % 12) {
    case 0:
      return {.delay = microseconds(spread / 2), .size = 1000 + (i * 37) % 20000};
    case 1:
      return {.call = Plan::Call::kStreamedUpload,
              .method = "PUT",
              .delay = microseconds(1000),
              .size = 100,
              .upload_size = 40000 + i};
    case 2:
      return {.mode = Mode::kChunked, .call = Plan::Call::kSendStreaming, .size = 30000 + i * 11};
    case 3:  // the deadline expires while the response header is missing
      return {.mode = Mode::kHold,
              .deadline = absl::Milliseconds(25),
              .may_succeed = false,
              .may_time_out = true};
    case 4:  // the deadline expires in the middle of the response body
      return {.mode = Mode::kHoldBody,
              .call = Plan::Call::kSendStreaming,
              .size = 100000,
              .deadline = absl::Milliseconds(40),
              .may_succeed = false,
              .may_time_out = true};
    case 5:  // the caller gives up while the response is missing
      return {.mode = Mode::kHold,
              .deadline = absl::Milliseconds(30),  // for callers without a timer
              .caller_timer = microseconds(15000),
              .may_succeed = false,
              .may_time_out = true};
    case 6:  // the caller gives up about when the response arrives
      return {
          .delay = microseconds(2000), .size = 2000, .caller_timer = microseconds(500 + spread)};
    case 7:
      return {.mode = Mode::kCloseAfter, .size = 500 + i};
    case 8:
      return {.mode = Mode::kTruncate, .size = 4000, .may_succeed = false, .truncated = true};
    case 9:  // a streamed response the caller may cancel in the middle
      return {.mode = Mode::kChunked,
              .call = Plan::Call::kSendStreaming,
              .size = 60000,
              .caller_timer = microseconds(1000 + spread)};
    case 10:  // a streamed upload whose deadline races the response
      return {.call = Plan::Call::kStreamedUpload,
              .method = "PUT",
              .delay = microseconds(2000),
              .size = 10,
              .upload_size = 20000,
              .deadline = absl::Microseconds(3000 + spread),
              .may_time_out = true};
    default:  // not idempotent: never sent twice
      return {.method = "POST", .size = 300};
  }
}

struct Outcome {
  bool done = false;
  bool raced = false;      // the caller raced the request against a timer
  bool timer_won = false;  // ... and the timer completed first
  absl::Status status;
  bool data_ok = false;
};

class StressClient {
 public:
  StressClient(BeastHttpClient& client, const StressServer& server, int requests)
      : client_(client), server_(server), requests_(requests), outcomes_(requests) {}

  // One worker: takes the next request until none is left.
  net::awaitable<void> Worker(bool may_race) {
    for (int i = next_++; i < requests_; i = next_++) {
      outcomes_[static_cast<size_t>(i)] = co_await RunOne(i, may_race);
    }
  }

  const std::vector<Outcome>& outcomes() const { return outcomes_; }

 private:
  // Checks a streamed response body chunk by chunk.
  struct SinkState {
    int id = 0;
    int64_t received = 0;
    bool pattern_ok = true;
  };

  net::awaitable<Outcome> RunOne(int i, bool may_race) {
    using namespace net::experimental::awaitable_operators;  // NOLINT(build/namespaces)
    const Plan plan = PlanFor(i);
    HttpRequest request;
    request.method = plan.method;
    request.url = server_.Url(i, plan.mode, plan.delay, plan.size);
    request.idempotent = plan.method != "POST";
    request.deadline = absl::Now() + plan.deadline;
    std::string upload;
    if (plan.call == Plan::Call::kStreamedUpload) {
      request.body_size = plan.upload_size;
      request.body_factory = [i, size = plan.upload_size] {
        auto offset = std::make_shared<int64_t>(0);
        return BodyChunkSource([i, size, offset]() -> net::awaitable<absl::StatusOr<std::string>> {
          // Gives the strand to others between chunks.
          co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
          std::string chunk;
          for (; *offset < size && chunk.size() < 4096; ++*offset) {
            chunk.push_back(UploadByte(i, *offset));
          }
          co_return chunk;
        });
      };
      for (int64_t k = 0; k < plan.upload_size; ++k) upload.push_back(UploadByte(i, k));
    } else if (plan.method != "GET") {
      request.body = absl::StrCat("body of ", i);
      upload = request.body;
    }
    const std::string sum = absl::StrCat(Fnv1a(upload));

    SinkState sink_state{i};
    BodyChunkSink sink = [&sink_state](absl::string_view chunk) -> net::awaitable<absl::Status> {
      for (char c : chunk) {
        sink_state.pattern_ok =
            sink_state.pattern_ok && c == BodyByte(sink_state.id, sink_state.received);
        ++sink_state.received;
      }
      co_return absl::OkStatus();
    };
    auto call = [&]() -> net::awaitable<absl::StatusOr<HttpResponse>> {
      if (plan.call == Plan::Call::kSendStreaming) {
        return client_.SendStreaming(std::move(request), sink);
      }
      return client_.Send(std::move(request));
    };

    Outcome out;
    out.done = true;
    absl::StatusOr<HttpResponse> response;
    if (plan.caller_timer.has_value() && may_race) {
      out.raced = true;
      net::steady_timer timer(co_await net::this_coro::executor, *plan.caller_timer);
      auto first = co_await (call() || timer.async_wait(kTok));
      if (first.index() == 1) {
        out.timer_won = true;
        co_return out;
      }
      response = std::get<0>(std::move(first));
    } else {
      response = co_await call();
    }
    out.status = response.status();
    if (response.ok()) {
      const bool body_ok =
          plan.call == Plan::Call::kSendStreaming
              ? response->body.empty() && sink_state.pattern_ok && sink_state.received == plan.size
              : response->body == Body(i, plan.size);
      out.data_ok = response->status == 200 && body_ok && response->Header("X-Body-Sum") == sum;
    }
    co_return out;
  }

  BeastHttpClient& client_;
  const StressServer& server_;
  const int requests_;
  std::atomic<int> next_{0};
  std::vector<Outcome> outcomes_;
};

// Runs `io` on `threads` threads until the returned object is destroyed.
class IoThreads {
 public:
  IoThreads(net::io_context& io, int threads) : io_(io), work_(net::make_work_guard(io)) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

 private:
  net::io_context& io_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

template <class T>
bool Ready(std::future<T>& future) {
  // Generous: every request has a deadline of at most 20 s.
  return future.wait_for(std::chrono::seconds(120)) == std::future_status::ready;
}

// No connection slot was lost: all `slots` of them serve requests at once
// (the server answers these only when `slots` requests wait together).
void ExpectAllSlotsFree(BeastHttpClient& client, const StressServer& server, net::io_context& io,
                        int first_id, int slots) {
  std::vector<std::future<absl::StatusOr<HttpResponse>>> barrier;
  for (int b = 0; b < slots; ++b) {
    HttpRequest request;
    request.url = server.Url(first_id + b, Mode::kBarrier, std::chrono::microseconds(0), 10);
    request.deadline = absl::Now() + absl::Seconds(20);
    barrier.push_back(net::co_spawn(io, client.Send(request), net::use_future));
  }
  for (int b = 0; b < slots; ++b) {
    ASSERT_TRUE(Ready(barrier[static_cast<size_t>(b)]));
    auto response = barrier[static_cast<size_t>(b)].get();
    ASSERT_TRUE(response.ok()) << "all " << slots
                               << " connection slots should be free: " << response.status();
    EXPECT_EQ(response->body, Body(first_id + b, 10));
  }
}

// A client on `io` with at most `max_connections` per host; null (and the
// test fails) when it cannot be created.
std::unique_ptr<BeastHttpClient> ClientOn(net::io_context& io, int max_connections) {
  BeastHttpClient::Options options;
  options.max_connections_per_host = max_connections;
  auto created = BeastHttpClient::Create(io.get_executor(), options);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? *std::move(created) : nullptr;
}

// What a stress test runs on: a StressServer whose barrier is the client's
// connection limit, and a client with that limit on `io` (null when it cannot
// be created).
struct StressRig {
  explicit StressRig(int max_connections)
      : max_connections(max_connections),
        server(/*barrier=*/max_connections),
        client(ClientOn(io, max_connections)) {}

  const int max_connections;
  StressServer server;
  net::io_context io;
  std::unique_ptr<BeastHttpClient> client;
};

// Waits for each of `calls` (spawned coroutines, `what` in the message) and
// rethrows what it threw (wrap in ASSERT_NO_FATAL_FAILURE).
void AwaitAll(std::vector<std::future<void>>& calls, const char* what) {
  for (auto& call : calls) {
    ASSERT_TRUE(Ready(call)) << what << " did not finish";
    call.get();
  }
}

TEST(BeastHttpClientStressTest, ManyRequestsOverFewConnections) {
  constexpr int kRequests = 480;
  constexpr int kWorkers = 24;
  StressRig rig(/*max_connections=*/3);
  ASSERT_NE(rig.client, nullptr);
  StressClient stress(*rig.client, rig.server, kRequests);
  {
    IoThreads threads(rig.io, 4);
    // Half of the callers run on strands and may race their requests against
    // a timer (`||` must run on a strand when the io_context has several
    // threads); the other half run on the io_context's executor itself, as
    // the server's upload workers do.
    std::vector<std::future<void>> workers;
    for (int w = 0; w < kWorkers; ++w) {
      const bool on_strand = w % 2 == 0;
      net::any_io_executor executor =
          on_strand ? net::any_io_executor(net::make_strand(rig.io)) : rig.io.get_executor();
      workers.push_back(net::co_spawn(executor, stress.Worker(on_strand), net::use_future));
    }
    ASSERT_NO_FATAL_FAILURE(AwaitAll(workers, "a worker"));

    ExpectAllSlotsFree(*rig.client, rig.server, rig.io, kRequests, rig.max_connections);
    // Destroyed while the io_context runs: pooled connections are closed on
    // their strands.
    rig.client.reset();
  }

  int victims = 0;
  std::array<int, 12> succeeded{};
  std::array<int, 12> raced_and_lost{};
  for (int i = 0; i < kRequests; ++i) {
    const Plan plan = PlanFor(i);
    const Outcome& out = stress.outcomes()[static_cast<size_t>(i)];
    SCOPED_TRACE(absl::StrCat("request ", i, " (kind ", i % 12, "): ", out.status.ToString()));
    ASSERT_TRUE(out.done);
    if (out.timer_won) {
      EXPECT_TRUE(out.raced);
      ++raced_and_lost[static_cast<size_t>(i % 12)];
      continue;
    }
    if (out.status.ok()) {
      EXPECT_TRUE(plan.may_succeed);
      EXPECT_TRUE(out.data_ok);
      ++succeeded[static_cast<size_t>(i % 12)];
    } else if (absl::IsDeadlineExceeded(out.status)) {
      EXPECT_TRUE(plan.may_time_out);
    } else if (absl::IsUnavailable(out.status) && plan.truncated) {
      EXPECT_FALSE(rig.server.Answered(i));
    } else if (absl::IsUnavailable(out.status)) {
      // Sent on a connection the server had closed after an earlier
      // response (twice for idempotent requests, which are resent once).
      EXPECT_FALSE(rig.server.Answered(i));
      ++victims;
    } else {
      ADD_FAILURE() << "unexpected outcome";
    }
  }
  // A closed connection fails at most one attempt: then it is dropped.
  EXPECT_LE(victims, rig.server.silent_closes());
  // Deterministic for the kind the server never answers.
  EXPECT_EQ(succeeded[5], 0);
  std::printf("stress: %d connections, %d silent closes, %d victims, %d+%d caller timers won\n",
              rig.server.connections(), rig.server.silent_closes(), victims, raced_and_lost[5],
              raced_and_lost[6] + raced_and_lost[9]);
}

// Streams a response and, as its last byte (for every third id: its middle
// byte) reaches the sink on the connection's strand, has the caller
// cancel the call on the caller's own strand: the cancellation crosses to the
// connection while the exchange completes. OK (with the whole body) or
// CANCELLED; nothing else.
net::awaitable<absl::Status> CancelAsTheLastByteArrives(BeastHttpClient& client,
                                                        const StressServer& server, int id) {
  // Every third response is long enough for a cancellation from its middle
  // to arrive before its end.
  const int64_t size = id % 3 == 0 ? 200000 : 12000;
  const net::any_io_executor caller = co_await net::this_coro::executor;
  auto signal = std::make_shared<net::cancellation_signal>();
  int64_t received = 0;
  bool pattern_ok = true;
  const int64_t mark = id % 3 == 0 ? size / 2 : size;
  BodyChunkSink sink = [&received, &pattern_ok, id, mark, caller,
                        signal](absl::string_view chunk) -> net::awaitable<absl::Status> {
    const int64_t before = received;
    for (char c : chunk) {
      pattern_ok = pattern_ok && c == BodyByte(id, received);
      ++received;
    }
    if (before < mark && received >= mark) {
      net::post(caller, [signal] { signal->emit(net::cancellation_type::terminal); });
    }
    co_return absl::OkStatus();
  };
  HttpRequest request;
  request.url = server.Url(id, Mode::kChunked, std::chrono::microseconds(0), size);
  request.idempotent = true;
  request.deadline = absl::Now() + absl::Seconds(20);
  absl::StatusOr<HttpResponse> response =
      co_await net::co_spawn(caller, client.SendStreaming(std::move(request), sink),
                             net::bind_cancellation_slot(signal->slot(), net::use_awaitable));
  if (!response.ok()) co_return response.status();
  if (response->status != 200 || received != size || !pattern_ok) {
    co_return absl::DataLossError(absl::StrCat("request ", id, ": wrong response"));
  }
  co_return absl::OkStatus();
}

// Requests ids [first, first + count) one after the other.
net::awaitable<void> CancellingCaller(BeastHttpClient& client, const StressServer& server,
                                      int first, int count, std::vector<absl::Status>& results) {
  for (int id = first; id < first + count; ++id) {
    results[static_cast<size_t>(id)] = co_await CancelAsTheLastByteArrives(client, server, id);
  }
}

TEST(BeastHttpClientStressTest, CancellationAsTheResponseCompletes) {
  constexpr int kCallers = 8;
  constexpr int kPerCaller = 30;
  StressRig rig(/*max_connections=*/2);
  ASSERT_NE(rig.client, nullptr);
  std::vector<absl::Status> results(kCallers * kPerCaller);
  {
    IoThreads threads(rig.io, 4);
    std::vector<std::future<void>> callers;
    for (int c = 0; c < kCallers; ++c) {
      callers.push_back(net::co_spawn(
          net::make_strand(rig.io),
          CancellingCaller(*rig.client, rig.server, c * kPerCaller, kPerCaller, results),
          net::use_future));
    }
    ASSERT_NO_FATAL_FAILURE(AwaitAll(callers, "a caller"));
    ExpectAllSlotsFree(*rig.client, rig.server, rig.io, kCallers * kPerCaller, rig.max_connections);
    rig.client.reset();
  }
  int cancelled = 0;
  for (size_t id = 0; id < results.size(); ++id) {
    const absl::Status& status = results[id];
    if (absl::IsCancelled(status)) {
      ++cancelled;
    } else {
      EXPECT_TRUE(status.ok()) << "request " << id << ": " << status;
    }
  }
  std::printf("stress: %d of %zu calls ended CANCELLED, the others complete\n", cancelled,
              results.size());
}

}  // namespace
}  // namespace labelport::http
