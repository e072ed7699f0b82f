// Database: OpenDatabase picks the kind by location; one database opens its
// connections once and its parts (run store, run-state counter, replica
// directory) share them; ListenForRunChanges (nothing for SQLite, LISTEN for
// PostgreSQL).
#include "service/store/database.h"

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_connection_pool.h"
#include "service/store/postgres_database.h"
#include "service/store/postgres_run_change_listener.h"
#include "service/store/sqlite_database.h"
#include "service/store/sqlite_pool.h"
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(OpenDatabaseTest, NeedsExactlyOneLocation) {
  EXPECT_EQ(OpenDatabase({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OpenDatabase({.sqlite_path = "a.db", .postgres_url = "postgresql://h/db"}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(OpenDatabaseTest, ErrorsNameTheUrlWithoutItsPassword) {
  auto bad = OpenDatabase({.postgres_url = "mysql://u:hunter2@h/db"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("postgresql://"));
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("hunter2")));
}

TEST(OpenDatabaseTest, DescribesTheLocationWithoutThePassword) {
  EXPECT_EQ(DescribeDatabase({.sqlite_path = "/data/runs.db"}), "sqlite:/data/runs.db");
  const std::string described =
      DescribeDatabase({.postgres_url = "postgresql://u:hunter2@db.example:5432/runs"});
  EXPECT_THAT(described, HasSubstr("db.example:5432/runs"));
  EXPECT_THAT(described, Not(HasSubstr("hunter2")));
}

// Uses every part once: a run created through the run store is counted by
// the counter, and a heartbeat goes to the directory.
void UseEveryPart(Database& database) {
  NewRun run;
  run.key = {"tenant", "dataset", "key"};
  run.record.set_state(labelport::v1::RUN_STATE_PENDING);
  ASSERT_TRUE(database.run_store().CreateRun(run).ok());
  EXPECT_TRUE(database.run_store().GetRun(run.key).ok());
  auto counts = database.run_state_counter().CountRunsByState();
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts,
            (std::map<labelport::v1::RunState, int64_t>{{labelport::v1::RUN_STATE_PENDING, 1}}));
  auto live = database.replica_directory().Heartbeat("replica", absl::Seconds(30));
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(*live, 1);
}

// One write connection (which migrates) and the read connections, opened
// once; the parts open none of their own.
TEST(SqliteDatabaseTest, PartsShareTheConnectionsOpenedOnce) {
  auto database = SqliteDatabase::Create({.path = testing::NewSqlitePath(), .read_connections = 2});
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->pool().connections_opened(), 3);
  ASSERT_NO_FATAL_FAILURE(UseEveryPart(**database));
  EXPECT_EQ((*database)->pool().connections_opened(), 3);
}

// An in-memory database exists only on its one connection: the counter and
// the directory see the run store's data because they share it.
TEST(SqliteDatabaseTest, AnInMemoryDatabaseServesEveryPart) {
  auto database = SqliteDatabase::Create({.path = ":memory:"});
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->pool().connections_opened(), 1);
  ASSERT_NO_FATAL_FAILURE(UseEveryPart(**database));
}

// The pool's first connection migrates; the parts take it from the pool
// instead of opening (and migrating) their own.
TEST(PostgresDatabaseTest, PartsShareOnePoolMigratedOnce) {
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  ASSERT_TRUE(url.ok()) << url.status();
  auto database = PostgresDatabase::Create({.url = *url});
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->pool().connections_opened(), 1);
  ASSERT_NO_FATAL_FAILURE(UseEveryPart(**database));
  EXPECT_EQ((*database)->pool().connections_opened(), 1);
}

TEST(PostgresDatabaseTest, RejectsBadOptions) {
  absl::StatusOr<std::string> url = testing::TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(PostgresDatabase::Create({.url = *url, .max_connections = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PostgresDatabase::Create({.url = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ListenForRunChangesTest, SqliteListensToNothing) {
  auto database = OpenDatabase({.sqlite_path = testing::NewSqlitePath()});
  ASSERT_TRUE(database.ok()) << database.status();
  InProcessRunChangeNotifier notifier;
  auto listening = (*database)->ListenForRunChanges(&notifier);
  ASSERT_TRUE(listening.ok()) << listening.status();
  EXPECT_NE(*listening, nullptr);
}

TEST(ListenForRunChangesTest, PostgresWithoutNotifierIsInvalid) {
  // A schema of its own: opening the database migrates it.
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  ASSERT_TRUE(url.ok()) << url.status();
  auto database = OpenDatabase({.postgres_url = *url});
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_EQ((*database)->ListenForRunChanges(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ListenForRunChangesTest, PostgresNotificationsReachTheNotifier) {
  // A schema of its own: opening the database migrates it.
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  ASSERT_TRUE(url.ok()) << url.status();
  auto database = OpenDatabase({.postgres_url = *url});
  ASSERT_TRUE(database.ok()) << database.status();
  InProcessRunChangeNotifier notifier;
  absl::Notification changed;
  auto subscription = notifier.Subscribe("run-1", [&changed] {
    if (!changed.HasBeenNotified()) changed.Notify();
  });
  auto listening = (*database)->ListenForRunChanges(&notifier);
  ASSERT_TRUE(listening.ok()) << listening.status();

  auto admin = PostgresConnection::Connect(*url);
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto sent =
      (*admin)->Exec(absl::StrCat("NOTIFY ", kPostgresRunChangeChannel, ", 'run-1'"), {}, "notify");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_TRUE(changed.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

}  // namespace
}  // namespace labelport::store
