// The ReplicaDirectory contract, run against SQLite and PostgreSQL: several
// directory objects on one database stand for several replicas (processes).
#include "service/store/replica_directory.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/database.h"
#include "tests/unit/common/wait_until.h"
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

using ::testing::HasSubstr;

class ReplicaDirectoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Opens databases (each standing for a process) on one fresh database;
  // a directory lives as long as its database, kept here.
  std::function<ReplicaDirectory*()> NewDatabase() {
    absl::StatusOr<DatabaseLocation> location = testing::NewDatabaseLocation(GetParam());
    EXPECT_TRUE(location.ok()) << location.status();
    return [this, location]() -> ReplicaDirectory* {
      if (!location.ok()) return nullptr;
      absl::StatusOr<std::unique_ptr<Database>> database = OpenDatabase(*location);
      EXPECT_TRUE(database.ok()) << database.status();
      if (!database.ok()) return nullptr;
      databases_.push_back(*std::move(database));
      return &databases_.back()->replica_directory();
    };
  }

 private:
  std::vector<std::unique_ptr<Database>> databases_;
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

INSTANTIATE_TEST_SUITE_P(AllStores, ReplicaDirectoryTest, testing::DatabaseKinds(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace labelport::store
