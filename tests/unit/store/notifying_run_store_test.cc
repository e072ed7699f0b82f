// NotifyingRunStore announces UpdateRun, RenameRun and DeleteRun of a run
// (by its uid) once they succeeded, and nothing else.
#include "service/store/notifying_run_store.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/store/one_image_run.h"

namespace labelport::store {
namespace {

namespace v1 = labelport::v1;

using ::labelport::store::testing::OneImageRun;

class NotifyingRunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sqlite = SqliteRunStore::Create({.path = ":memory:"});
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
    inner_ = *std::move(sqlite);
    store_ = std::make_unique<NotifyingRunStore>(inner_.get(), &notifier_);
  }

  // Creates a run and counts the notifications of its uid from then on.
  std::string CreateWatched(const std::string& anno_key) {
    auto created = store_->CreateRun(OneImageRun(anno_key));
    EXPECT_TRUE(created.ok()) << created.status();
    const std::string uid = created.ok() ? created->run_id : "";
    subscriptions_.push_back(notifier_.Subscribe(uid, [this, uid] { ++notified_[uid]; }));
    return uid;
  }

  InProcessRunChangeNotifier notifier_;
  std::unique_ptr<SqliteRunStore> inner_;
  std::unique_ptr<NotifyingRunStore> store_;
  std::vector<std::unique_ptr<RunChangeNotifier::Subscription>> subscriptions_;
  std::map<std::string, int> notified_;
};

TEST_F(NotifyingRunStoreTest, UpdateRenameAndDeleteAreAnnouncedByUid) {
  const std::string uid = CreateWatched("watched");
  const std::string other = CreateWatched("other");
  EXPECT_EQ(notified_[uid], 0) << "CreateRun is not announced";

  auto updated = store_->UpdateRun(uid, [](v1::AnnotationRun& run) {
    run.set_state(v1::RUN_STATE_UPLOADING);
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(notified_[uid], 1);

  auto renamed = store_->RenameRun(RunKey{"tenant", "dataset", "watched"}, "renamed");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(notified_[uid], 2);

  ASSERT_TRUE(store_->DeleteRun(RunKey{"tenant", "dataset", "renamed"}).ok());
  EXPECT_EQ(notified_[uid], 3);
  EXPECT_EQ(notified_[other], 0);
}

TEST_F(NotifyingRunStoreTest, FailedChangesAndJobBookkeepingAreNotAnnounced) {
  const std::string uid = CreateWatched("watched");
  CreateWatched("taken");

  auto refused = store_->UpdateRun(
      uid, [](v1::AnnotationRun&) { return absl::FailedPreconditionError("no"); });
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(store_->RenameRun(RunKey{"tenant", "dataset", "watched"}, "taken").ok());
  EXPECT_FALSE(store_->DeleteRun(RunKey{"tenant", "dataset", "missing"}).ok());
  EXPECT_FALSE(
      store_->UpdateRun("no-such-uid", [](v1::AnnotationRun&) { return absl::OkStatus(); }).ok());

  internal::v1::SampleProgress progress;
  progress.set_position(0);
  ASSERT_TRUE(store_->SaveSampleProgress(uid, {progress}).ok());
  google::protobuf::Any state;
  state.set_type_url("type.googleapis.com/example.State");
  ASSERT_TRUE(store_->SaveBackendState(uid, state).ok());
  auto leased = store_->AcquireLease(uid, "worker", absl::Seconds(10));
  ASSERT_TRUE(leased.ok() && *leased);
  ASSERT_TRUE(store_->ReleaseLease(uid, "worker").ok());
  EXPECT_EQ(notified_[uid], 0);
}

TEST_F(NotifyingRunStoreTest, ReadsAndErrorsPassThroughUnchanged) {
  const std::string uid = CreateWatched("watched");
  auto by_uid = store_->GetRunByUid(uid);
  ASSERT_TRUE(by_uid.ok()) << by_uid.status();
  auto by_key = store_->GetRun(RunKey{"tenant", "dataset", "watched"});
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_EQ(by_key->uid(), uid);
  EXPECT_EQ(store_->GetRun(RunKey{"tenant", "dataset", "missing"}).status().code(),
            absl::StatusCode::kNotFound);
  ListRunsQuery query;
  query.tenant = "tenant";
  query.dataset = "dataset";
  auto page = store_->ListRuns(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->runs.size(), 1u);
}

}  // namespace
}  // namespace labelport::store
