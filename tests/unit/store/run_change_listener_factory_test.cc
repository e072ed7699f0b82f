// ListenForRunChanges: nothing to listen to for SQLite; for PostgreSQL, a
// listener whose NOTIFYs reach the notifier, and the listener's errors.
#include "service/store/run_change_listener_factory.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_run_change_listener.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store {
namespace {

TEST(ListenForRunChangesTest, SqliteListensToNothing) {
  InProcessRunChangeNotifier notifier;
  auto listening =
      ListenForRunChanges({.sqlite_path = "/nonexistent/runs.db", .postgres_url = ""}, &notifier);
  ASSERT_TRUE(listening.ok()) << listening.status();
  EXPECT_NE(*listening, nullptr);
}

TEST(ListenForRunChangesTest, PostgresWithoutNotifierIsInvalid) {
  auto listening = ListenForRunChanges(
      {.sqlite_path = "", .postgres_url = "postgresql://127.0.0.1:1/db"}, nullptr);
  EXPECT_EQ(listening.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ListenForRunChangesTest, NotAPostgresUrlIsInvalid) {
  InProcessRunChangeNotifier notifier;
  auto listening =
      ListenForRunChanges({.sqlite_path = "", .postgres_url = "mysql://127.0.0.1/db"}, &notifier);
  EXPECT_EQ(listening.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ListenForRunChangesTest, PostgresNotificationsReachTheNotifier) {
  absl::StatusOr<std::string> url = testing::TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  InProcessRunChangeNotifier notifier;
  absl::Notification changed;
  auto subscription = notifier.Subscribe("run-1", [&changed] {
    if (!changed.HasBeenNotified()) changed.Notify();
  });
  auto listening = ListenForRunChanges({.sqlite_path = "", .postgres_url = *url}, &notifier);
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
