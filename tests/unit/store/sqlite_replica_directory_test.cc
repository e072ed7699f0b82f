#include "service/store/sqlite_replica_directory.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::store {
namespace {

std::string NewDatabasePath() {
  static int counter = 0;
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("replica_directory_test_", getpid());
  std::filesystem::create_directories(dir);
  return (dir / absl::StrCat("db-", counter++, ".db")).string();
}

std::unique_ptr<SqliteReplicaDirectory> Open(const std::string& path) {
  auto directory = SqliteReplicaDirectory::Create({.path = path});
  EXPECT_TRUE(directory.ok()) << directory.status();
  return *std::move(directory);
}

TEST(SqliteReplicaDirectoryTest, CountsLiveReplicasAcrossConnections) {
  const std::string path = NewDatabasePath();
  auto a = Open(path);
  auto b = Open(path);  // another process on the same file
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 1);
  EXPECT_EQ(*b->Heartbeat("replica-b", absl::Seconds(30)), 2);
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 2);  // renewing is not joining
  ASSERT_TRUE(b->Leave("replica-b").ok());
  EXPECT_EQ(*a->Heartbeat("replica-a", absl::Seconds(30)), 1);
}

TEST(SqliteReplicaDirectoryTest, ExpiredReplicasDropOut) {
  const std::string path = NewDatabasePath();
  auto directory = Open(path);
  EXPECT_EQ(*directory->Heartbeat("dies", absl::Milliseconds(50)), 1);
  EXPECT_EQ(*directory->Heartbeat("lives", absl::Seconds(30)), 2);
  absl::SleepFor(absl::Milliseconds(80));
  EXPECT_EQ(*directory->Heartbeat("lives", absl::Seconds(30)), 1);
}

TEST(SqliteReplicaDirectoryTest, SharesTheRunStoreFile) {
  const std::string path = NewDatabasePath();
  auto store = SqliteRunStore::Create({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  auto directory = Open(path);
  EXPECT_EQ(*directory->Heartbeat("r", absl::Seconds(1)), 1);
}

TEST(SqliteReplicaDirectoryTest, RejectsBadInput) {
  auto directory = Open(NewDatabasePath());
  EXPECT_EQ(directory->Heartbeat("", absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(directory->Heartbeat("r", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(directory->Leave("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(directory->Leave("never-joined").ok());
  auto in_memory = SqliteReplicaDirectory::Create({.path = ":memory:"});
  EXPECT_EQ(in_memory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(in_memory.status().message().find("SqliteReplicaDirectory"), std::string::npos);
}

}  // namespace
}  // namespace labelport::store
