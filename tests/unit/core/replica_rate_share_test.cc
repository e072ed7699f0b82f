#include "service/core/replica_rate_share.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "service/store/database.h"
#include "tests/unit/common/fake_metrics.h"

namespace labelport::core {
namespace {

namespace net = boost::asio;

std::string NewDatabasePath() {
  static int counter = 0;
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("replica_rate_share_test_", getpid());
  std::filesystem::create_directories(dir);
  return (dir / absl::StrCat("db-", counter++, ".db")).string();
}

// One replica: its own database (connections), limiter and share.
struct Replica {
  Replica(const std::string& path, const std::string& id, double total) {
    database = *store::OpenDatabase({.sqlite_path = path});
    limiter = *http::TokenBucketRateLimiter::Create(
        {.requests_per_minute = total, .burst = 1, .metrics = &metrics});
    share = std::make_unique<ReplicaRateShare>(
        &database->replica_directory(),
        [this](double per_minute, int burst) {
          ASSERT_TRUE(limiter->SetRate(per_minute, burst).ok());
        },
        ReplicaRateShare::Options{
            .replica_id = id, .total_requests_per_minute = total, .total_burst = 1},
        &metrics);
  }

  // The waits of `n` back-to-back tokens (reserved, not awaited).
  std::vector<absl::Duration> WaitsOf(int n) {
    net::io_context io;
    for (int i = 0; i < n; ++i) net::co_spawn(io, limiter->Acquire("key"), net::detached);
    io.poll();
    return metrics.waits();
  }

  testing::FakeMetrics metrics;
  std::unique_ptr<store::Database> database;
  std::unique_ptr<http::TokenBucketRateLimiter> limiter;
  std::unique_ptr<ReplicaRateShare> share;
};

TEST(ReplicaRateShareTest, TwoReplicasOnOneStoreHalveTheirRate) {
  const std::string path = NewDatabasePath();
  Replica a(path, "replica-a", 600);
  Replica b(path, "replica-b", 600);
  EXPECT_EQ(*a.share->Refresh(), 1);
  EXPECT_EQ(a.limiter->requests_per_minute(), 600);
  EXPECT_EQ(*b.share->Refresh(), 2);
  EXPECT_EQ(*a.share->Refresh(), 2);
  EXPECT_EQ(a.limiter->requests_per_minute(), 300);
  EXPECT_EQ(b.limiter->requests_per_minute(), 300);
  EXPECT_EQ(a.metrics.rate_limit(), 300);

  // Tokens are now spaced 200 ms apart on each replica (600/min together).
  for (Replica* replica : {&a, &b}) {
    const std::vector<absl::Duration> waits = replica->WaitsOf(3);
    ASSERT_EQ(waits.size(), 2u);
    EXPECT_NEAR(absl::ToDoubleMilliseconds(waits[0]), 200, 20);
    EXPECT_NEAR(absl::ToDoubleMilliseconds(waits[1]), 400, 20);
  }

  // When b leaves, a takes the whole limit back at its next refresh.
  ASSERT_TRUE(b.share->Leave().ok());
  EXPECT_EQ(*a.share->Refresh(), 1);
  EXPECT_EQ(a.limiter->requests_per_minute(), 600);
}

// A directory that fails, to check that the rate is kept.
class FailingDirectory : public store::ReplicaDirectory {
 public:
  absl::StatusOr<int> Heartbeat(const std::string&, absl::Duration) override {
    return absl::UnavailableError("database is locked");
  }
  absl::Status Leave(const std::string&) override { return absl::OkStatus(); }
};

TEST(ReplicaRateShareTest, AFailedHeartbeatKeepsTheCurrentRate) {
  FailingDirectory directory;
  double applied = -1;
  ReplicaRateShare share(&directory, [&applied](double rate, int) { applied = rate; },
                         {.replica_id = "r", .total_requests_per_minute = 1000});
  EXPECT_EQ(share.Refresh().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(applied, -1);
  EXPECT_EQ(share.requests_per_minute(), 1000);
}

TEST(ReplicaRateShareTest, TheBurstIsSharedTooAndNeverBelowOne) {
  const std::string path = NewDatabasePath();
  std::vector<std::unique_ptr<store::Database>> databases;
  std::vector<std::unique_ptr<http::TokenBucketRateLimiter>> limiters;
  std::vector<std::unique_ptr<ReplicaRateShare>> shares;
  for (int i = 0; i < 3; ++i) {
    databases.push_back(*store::OpenDatabase({.sqlite_path = path}));
    limiters.push_back(*http::TokenBucketRateLimiter::Create({.requests_per_minute = 900}));
    http::TokenBucketRateLimiter* limiter = limiters.back().get();
    shares.push_back(std::make_unique<ReplicaRateShare>(
        &databases.back()->replica_directory(),
        [limiter](double rate, int burst) { ASSERT_TRUE(limiter->SetRate(rate, burst).ok()); },
        ReplicaRateShare::Options{.replica_id = absl::StrCat("r", i),
                                  .total_requests_per_minute = 900,
                                  .total_burst = 20}));
  }
  for (auto& share : shares) ASSERT_TRUE(share->Refresh().ok());
  for (auto& share : shares) ASSERT_TRUE(share->Refresh().ok());
  for (auto& limiter : limiters) {
    EXPECT_EQ(limiter->requests_per_minute(), 300);
    EXPECT_EQ(limiter->burst(), 6);  // 20 / 3
  }
  // With more replicas than tokens each still gets one.
  ReplicaRateShare crowded(
      &databases[0]->replica_directory(), [](double, int burst) { EXPECT_EQ(burst, 1); },
      {.replica_id = "r0", .total_requests_per_minute = 900, .total_burst = 2});
  ASSERT_TRUE(crowded.Refresh().ok());
  EXPECT_EQ(crowded.burst(), 1);
}

}  // namespace
}  // namespace labelport::core
