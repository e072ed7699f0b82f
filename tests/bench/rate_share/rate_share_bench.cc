// Shared V7 rate limit: N replicas (each its own ReplicaDirectory connection,
// TokenBucketRateLimiter and ReplicaRateShare, as separate processes would
// have) on one SQLite store take tokens as fast as their limiters allow for
// --seconds, and the measured rates are printed next to the limit.
// A benchmark, not a test: it prints numbers (see README.md).
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "service/core/replica_rate_share.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "service/store/database.h"

ABSL_FLAG(int, replicas, 2, "Replicas sharing the limit");
ABSL_FLAG(double, limit_per_minute, 1200, "--darwin_rate_limit_per_minute of every replica");
ABSL_FLAG(int, burst, 1, "Limiter burst of each replica");
ABSL_FLAG(double, seconds, 5, "How long the replicas take tokens");

namespace {

namespace net = boost::asio;
using labelport::core::ReplicaRateShare;
using labelport::http::TokenBucketRateLimiter;

struct Replica {
  // Each replica has its own database object (its own connections) on the file.
  std::unique_ptr<labelport::store::Database> database;
  std::unique_ptr<TokenBucketRateLimiter> limiter;
  std::unique_ptr<ReplicaRateShare> share;
  std::atomic<int64_t> tokens{0};
};

int Main() {
  const int n = absl::GetFlag(FLAGS_replicas);
  const double limit = absl::GetFlag(FLAGS_limit_per_minute);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  if (n < 1 || limit <= 0 || seconds <= 0) {
    std::fprintf(stderr, "--replicas, --limit_per_minute and --seconds must be positive\n");
    return 2;
  }
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("rate_share_bench_", getpid());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "store.db").string();

  std::vector<std::unique_ptr<Replica>> replicas;
  for (int i = 0; i < n; ++i) {
    auto replica = std::make_unique<Replica>();
    auto database = labelport::store::OpenDatabase({.sqlite_path = path});
    auto limiter = TokenBucketRateLimiter::Create(
        {.requests_per_minute = limit, .burst = absl::GetFlag(FLAGS_burst)});
    if (!database.ok() || !limiter.ok()) {
      std::fprintf(stderr, "set-up failed: %s %s\n", database.status().ToString().c_str(),
                   limiter.status().ToString().c_str());
      return 1;
    }
    replica->database = *std::move(database);
    replica->limiter = *std::move(limiter);
    TokenBucketRateLimiter* raw = replica->limiter.get();
    replica->share = std::make_unique<ReplicaRateShare>(
        &replica->database->replica_directory(),
        [raw](double rate, int burst) { (void)raw->SetRate(rate, burst); },
        ReplicaRateShare::Options{.replica_id = absl::StrCat("replica-", i),
                                  .total_requests_per_minute = limit,
                                  .total_burst = absl::GetFlag(FLAGS_burst)});
    replicas.push_back(std::move(replica));
  }
  // Every replica joins, then refreshes once more to see all the others
  // (what the periodic heartbeat does within one interval).
  for (auto& r : replicas) (void)r->share->Refresh();
  for (auto& r : replicas) (void)r->share->Refresh();

  net::io_context io;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(seconds));
  for (auto& r : replicas) {
    net::co_spawn(
        io,
        [&r, end]() -> net::awaitable<void> {
          while (std::chrono::steady_clock::now() < end) {
            co_await r->limiter->Acquire("api-key-digest");
            if (std::chrono::steady_clock::now() < end) ++r->tokens;
          }
        },
        net::detached);
  }
  io.run();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf(
      "rate_share_bench: %d replicas on one SQLite store, limit %.0f/min, burst %d, %.1f s\n", n,
      limit, absl::GetFlag(FLAGS_burst), elapsed);
  int64_t total = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t tokens = replicas[i]->tokens.load();
    total += tokens;
    std::printf("  replica-%d: share %.1f/min burst %d, measured %.1f/min (%lld tokens)\n", i,
                replicas[i]->share->requests_per_minute(), replicas[i]->share->burst(),
                tokens * 60.0 / elapsed, static_cast<long long>(tokens));
  }
  std::printf("  together: %.1f/min = %.3f of the limit\n", total * 60.0 / elapsed,
              total * 60.0 / elapsed / limit);
  std::printf(
      "reproduce: build/tests/bench/rate_share/rate_share_bench --replicas=%d "
      "--limit_per_minute=%.0f --burst=%d --seconds=%.0f\n",
      n, limit, absl::GetFlag(FLAGS_burst), seconds);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}
