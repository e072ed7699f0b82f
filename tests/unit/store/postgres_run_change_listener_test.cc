// PostgresRunChangeListener: run changes committed through any
// PostgresRunStore on the database reach the listener's notifier (one
// notification per change, by uid); after its connection is cut it
// reconnects and asks every watcher to re-read.
#include "service/store/postgres_run_change_listener.h"

#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/postgres_run_store.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace v1 = labelport::v1;

// Generous: a notification normally arrives within milliseconds; the
// deadline only bounds a failing test.
constexpr absl::Duration kDeadline = absl::Seconds(30);
// A run id nobody changes: only NotifyAll wakes its listener.
constexpr char kSentinel[] = "sentinel-run-id";

std::string NewSchemaUrl() {
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  EXPECT_TRUE(url.ok()) << url.status();
  return url.value_or("");
}

NewRun MakeRun(const std::string& anno_key) {
  NewRun run;
  run.key = {"tenant", "dataset", anno_key};
  run.record.set_backend("darwin");
  run.record.set_state(v1::RUN_STATE_PENDING);
  v1::Sample sample;
  sample.set_id("s1");
  run.samples.push_back(sample);
  return run;
}

// Counts the notifications of the runs it watches.
class Recorder {
 public:
  explicit Recorder(RunChangeNotifier* notifier) : notifier_(notifier) {}

  void Watch(const std::string& run_id) {
    subscriptions_.push_back(notifier_->Subscribe(run_id, [this, run_id] {
      absl::MutexLock lock(&mu_);
      ++counts_[run_id];
    }));
  }

  int Count(const std::string& run_id) {
    absl::MutexLock lock(&mu_);
    return counts_[run_id];
  }

  // Waits until run_id was notified at least `n` times; false at the deadline.
  bool WaitFor(const std::string& run_id, int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] { return counts_[run_id] >= n; };
    const absl::Time deadline = absl::Now() + kDeadline;
    while (!reached() && absl::Now() < deadline) {
      mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
    }
    return reached();
  }

 private:
  RunChangeNotifier* const notifier_;
  std::vector<std::unique_ptr<RunChangeNotifier::Subscription>> subscriptions_;
  absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

absl::Status SetState(RunStore& store, const std::string& uid, v1::RunState state) {
  return store
      .UpdateRun(uid,
                 [state](v1::AnnotationRun& run) {
                   run.set_state(state);
                   return absl::OkStatus();
                 })
      .status();
}

// A store and a listener on one fresh schema, and a recorder of what the
// listener hands on. The store stands for another replica: it shares
// nothing with the listener but the database.
class ListenedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string url = NewSchemaUrl();
    store = PostgresRunStore::Create({.url = url});
    ASSERT_TRUE(store.ok()) << store.status();
    auto started = PostgresRunChangeListener::Start({.url = url, .notifier = &notifier});
    ASSERT_TRUE(started.ok()) << started.status();
    listener = *std::move(started);
  }

  InProcessRunChangeNotifier notifier;
  Recorder recorder{&notifier};
  // A StatusOr, as PostgresRunStore::Create returns it (OK after SetUp).
  absl::StatusOr<std::unique_ptr<PostgresRunStore>> store;
  std::unique_ptr<PostgresRunChangeListener> listener;
};

TEST_F(ListenedStoreTest, ChangesCommittedThroughAnyStoreReachTheListener) {
  auto created = (*store)->CreateRun(MakeRun("watched"));
  ASSERT_TRUE(created.ok()) << created.status();
  auto other = (*store)->CreateRun(MakeRun("other"));
  ASSERT_TRUE(other.ok()) << other.status();
  const std::string uid = created->run_id;
  recorder.Watch(uid);
  recorder.Watch(other->run_id);

  ASSERT_TRUE(SetState(**store, uid, v1::RUN_STATE_UPLOADING).ok());
  EXPECT_TRUE(recorder.WaitFor(uid, 1));
  ASSERT_TRUE((*store)->RenameRun({"tenant", "dataset", "watched"}, "renamed").ok());
  EXPECT_TRUE(recorder.WaitFor(uid, 2));
  ASSERT_TRUE((*store)->DeleteRun({"tenant", "dataset", "renamed"}).ok());
  EXPECT_TRUE(recorder.WaitFor(uid, 3));
  EXPECT_EQ(recorder.Count(other->run_id), 0);
}

TEST_F(ListenedStoreTest, FailedChangesAreNotAnnounced) {
  auto failed = (*store)->CreateRun(MakeRun("failed"));
  auto marker = (*store)->CreateRun(MakeRun("taken"));
  ASSERT_TRUE(failed.ok() && marker.ok());
  recorder.Watch(failed->run_id);
  recorder.Watch(marker->run_id);

  EXPECT_FALSE((*store)
                   ->UpdateRun(failed->run_id,
                               [](v1::AnnotationRun&) { return absl::AbortedError("refused"); })
                   .ok());
  EXPECT_FALSE((*store)->RenameRun({"tenant", "dataset", "failed"}, "taken").ok());
  // PostgreSQL delivers notifications in commit order: once the marker's
  // arrives, one of the failed changes would have arrived before it.
  ASSERT_TRUE(SetState(**store, marker->run_id, v1::RUN_STATE_UPLOADING).ok());
  ASSERT_TRUE(recorder.WaitFor(marker->run_id, 1));
  EXPECT_EQ(recorder.Count(failed->run_id), 0);
}

TEST(PostgresRunChangeListenerTest, ReconnectsAfterItsConnectionIsCutAndAsksEveryoneToReRead) {
  const std::string application = absl::StrCat("lp_listener_", getpid());
  const std::string schema_url = NewSchemaUrl();
  const std::string url = absl::StrCat(schema_url, "&application_name=", application);
  auto store = PostgresRunStore::Create({.url = schema_url});
  ASSERT_TRUE(store.ok()) << store.status();
  InProcessRunChangeNotifier notifier;
  Recorder recorder(&notifier);
  recorder.Watch(kSentinel);
  auto listener = PostgresRunChangeListener::Start(
      {.url = url, .notifier = &notifier, .initial_backoff = absl::Milliseconds(10)});
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ((*listener)->connections(), 1);

  auto admin = PostgresConnection::Connect(*testing::TestPostgresUrl());
  ASSERT_TRUE(admin.ok()) << admin.status();
  auto killed = (*admin)->Exec(absl::StrCat("SELECT COUNT(pg_terminate_backend(pid))::text FROM "
                                            "pg_stat_activity WHERE application_name = '",
                                            application, "'"),
                               {}, "terminate the listener");
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_EQ(killed->Bytes(0, 0), "1");

  // Notifications sent meanwhile may be lost: every watcher re-reads once.
  EXPECT_TRUE(recorder.WaitFor(kSentinel, 1));
  EXPECT_EQ((*listener)->connections(), 2);

  auto created = (*store)->CreateRun(MakeRun("after"));
  ASSERT_TRUE(created.ok()) << created.status();
  recorder.Watch(created->run_id);
  ASSERT_TRUE(SetState(**store, created->run_id, v1::RUN_STATE_UPLOADING).ok());
  EXPECT_TRUE(recorder.WaitFor(created->run_id, 1));
}

TEST(PostgresRunChangeListenerTest, RejectsBadOptionsWithoutRevealingThePassword) {
  InProcessRunChangeNotifier notifier;
  EXPECT_EQ(
      PostgresRunChangeListener::Start({.url = "postgresql://u:p@127.0.0.1/db"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PostgresRunChangeListener::Start({.url = "mysql://x", .notifier = &notifier}).status().code(),
      absl::StatusCode::kInvalidArgument);
  auto unreachable = PostgresRunChangeListener::Start(
      {.url = "postgresql://user:s3cret-pw@127.0.0.1:1/db", .notifier = &notifier});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(unreachable.status().message()), Not(HasSubstr("s3cret-pw")));
}

}  // namespace
}  // namespace labelport::store
