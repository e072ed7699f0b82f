// The ReplicaDirectory contract, run against SQLite and PostgreSQL: several
// directory objects on one database stand for several replicas (processes).
#include "service/store/replica_directory.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/postgres_replica_directory.h"
#include "service/store/sqlite_replica_directory.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/common/wait_until.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store {
namespace {

using ::testing::HasSubstr;

const auto* const kDropTestSchemas =
    ::testing::AddGlobalTestEnvironment(new testing::DropTestSchemas);

std::string NewSqlitePath() {
  static int counter = 0;
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("replica_directory_test_", getpid());
  std::filesystem::create_directories(dir);
  return (dir / absl::StrCat("db-", counter++, ".db")).string();
}

// Opens directories on one fresh database.
using DatabaseFactory = std::function<std::function<std::unique_ptr<ReplicaDirectory>()>()>;

std::function<std::unique_ptr<ReplicaDirectory>()> NewSqliteDatabase() {
  return [path = NewSqlitePath()]() -> std::unique_ptr<ReplicaDirectory> {
    auto directory = SqliteReplicaDirectory::Create({.path = path});
    EXPECT_TRUE(directory.ok()) << directory.status();
    return directory.ok() ? *std::move(directory) : nullptr;
  };
}

std::function<std::unique_ptr<ReplicaDirectory>()> NewPostgresDatabase() {
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  EXPECT_TRUE(url.ok()) << url.status();
  return [url = url.value_or("")]() -> std::unique_ptr<ReplicaDirectory> {
    auto directory = PostgresReplicaDirectory::Create({.url = url});
    EXPECT_TRUE(directory.ok()) << directory.status();
    return directory.ok() ? *std::move(directory) : nullptr;
  };
}

class ReplicaDirectoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::function<std::unique_ptr<ReplicaDirectory>()> NewDatabase() {
    return GetParam() == "Sqlite" ? NewSqliteDatabase() : NewPostgresDatabase();
  }
};

TEST_P(ReplicaDirectoryTest, CountsLiveReplicasAcrossConnections) {
  auto open = NewDatabase();
  auto a = open();
  auto b = open();  // another process on the same database
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 1);
  EXPECT_EQ(*b->Heartbeat("replica-b", absl::Seconds(30)), 2);
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 2);  // renewing is not joining
  ASSERT_TRUE(b->Leave("replica-b").ok());
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 1);
}

TEST_P(ReplicaDirectoryTest, ExpiredReplicasDropOut) {
  auto directory = NewDatabase()();
  ASSERT_NE(directory, nullptr);
  EXPECT_EQ(*directory->Heartbeat("dies", absl::Seconds(30)), 1);
  EXPECT_EQ(*directory->Heartbeat("lives", absl::Seconds(30)), 2);
  // "dies" renews with a short ttl, then stops: it drops out once that expires.
  const absl::Time renewed = absl::Now();
  const absl::Duration ttl = absl::Milliseconds(20);
  EXPECT_EQ(*directory->Heartbeat("dies", ttl), 2);
  ASSERT_TRUE(::labelport::testing::WaitUntil(
      [&] {
        absl::StatusOr<int> live = directory->Heartbeat("lives", absl::Seconds(30));
        EXPECT_TRUE(live.ok()) << live.status();
        return !live.ok() || *live == 1;
      },
      absl::Seconds(10), "the expired replica dropping out"));
  EXPECT_GE(absl::Now() - renewed, ttl);
}

TEST_P(ReplicaDirectoryTest, RejectsBadInput) {
  auto directory = NewDatabase()();
  ASSERT_NE(directory, nullptr);
  auto no_id = directory->Heartbeat("", absl::Seconds(1));
  EXPECT_EQ(no_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_id.status().message()), HasSubstr("replica id is empty"));
  EXPECT_EQ(directory->Heartbeat("r", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(directory->Leave("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(directory->Leave("never-joined").ok());
}

INSTANTIATE_TEST_SUITE_P(AllStores, ReplicaDirectoryTest, ::testing::Values("Sqlite", "Postgres"),
                         [](const auto& info) { return info.param; });

TEST(SqliteReplicaDirectoryTest, SharesTheRunStoreFileAndRefusesMemory) {
  const std::string path = NewSqlitePath();
  auto store = SqliteRunStore::Create({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  auto directory = SqliteReplicaDirectory::Create({.path = path});
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ(*(*directory)->Heartbeat("r", absl::Seconds(1)), 1);
  auto in_memory = SqliteReplicaDirectory::Create({.path = ":memory:"});
  EXPECT_EQ(in_memory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(in_memory.status().message()), HasSubstr("SqliteReplicaDirectory"));
}

TEST(PostgresReplicaDirectoryTest, ErrorsNameTheUrlWithoutItsPassword) {
  auto bad = PostgresReplicaDirectory::Create({.url = "mysql://u:hunter2@h/db"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("postgresql://"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace labelport::store
