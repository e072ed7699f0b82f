// StoreUploadJournal keeps the run's progress counters in step with its
// progress records, also when saves from several coroutines race.
#include "service/core/store_upload_journal.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;
namespace internal = labelport::internal::v1;
using store::RunStore;

// Forwards to a real store; the first UpdateRun waits for `release` before
// it starts (a save that lost the race for the store).
class SlowFirstUpdateStore : public RunStore {
 public:
  explicit SlowFirstUpdateStore(RunStore* inner) : inner_(inner) {}

  absl::StatusOr<v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                              const RunMutator& mutate) override {
    if (!first_update_seen_.exchange(true)) {
      first_update_waiting.Notify();
      release.WaitForNotification();
    }
    return inner_->UpdateRun(run_id, mutate);
  }

  absl::Notification first_update_waiting;
  absl::Notification release;

  absl::StatusOr<store::CreateRunResult> CreateRun(const store::NewRun& run) override {
    return inner_->CreateRun(run);
  }
  absl::StatusOr<v1::AnnotationRun> GetRun(const store::RunKey& key) override {
    return inner_->GetRun(key);
  }
  absl::StatusOr<store::ListRunsPage> ListRuns(const store::ListRunsQuery& query) override {
    return inner_->ListRuns(query);
  }
  absl::StatusOr<v1::AnnotationRun> RenameRun(const store::RunKey& key,
                                              const std::string& new_anno_key) override {
    return inner_->RenameRun(key, new_anno_key);
  }
  absl::Status DeleteRun(const store::RunKey& key) override { return inner_->DeleteRun(key); }
  absl::StatusOr<store::RunSpool> BeginRunSpool(const store::RunKey& key,
                                                const std::string& request_id,
                                                const std::string& owner,
                                                absl::Duration ttl) override {
    return inner_->BeginRunSpool(key, request_id, owner, ttl);
  }
  absl::StatusOr<std::optional<store::SpoolConflict>> AppendToRunSpool(
      const std::string& spool_id, int64_t first_position, const std::vector<v1::Sample>& samples,
      const std::vector<std::string>& label_ids, absl::Duration ttl) override {
    return inner_->AppendToRunSpool(spool_id, first_position, samples, label_ids, ttl);
  }
  absl::StatusOr<store::CreateRunResult> CommitRunSpool(const std::string& spool_id,
                                                        const store::NewRun& run) override {
    return inner_->CommitRunSpool(spool_id, run);
  }
  absl::Status DiscardRunSpool(const std::string& spool_id) override {
    return inner_->DiscardRunSpool(spool_id);
  }
  absl::StatusOr<int64_t> DiscardRunSpoolsOf(const std::string& owner) override {
    return inner_->DiscardRunSpoolsOf(owner);
  }
  absl::StatusOr<int64_t> DiscardExpiredRunSpools() override {
    return inner_->DiscardExpiredRunSpools();
  }
  absl::StatusOr<store::SampleIdPage> ListRunSamples(const store::RunKey& key, int64_t start,
                                                     int page_size) override {
    return inner_->ListRunSamples(key, start, page_size);
  }
  absl::StatusOr<v1::AnnotationRun> GetRunByUid(const std::string& run_id) override {
    return inner_->GetRunByUid(run_id);
  }
  absl::Status StageSamples(const std::string& run_id, const std::string& stage_id,
                            const std::vector<std::pair<int64_t, v1::Sample>>& samples) override {
    return inner_->StageSamples(run_id, stage_id, samples);
  }
  absl::Status CommitStagedSamples(const std::string& run_id,
                                   const std::string& stage_id) override {
    return inner_->CommitStagedSamples(run_id, stage_id);
  }
  absl::Status DiscardStagedSamples(const std::string& run_id,
                                    const std::string& stage_id) override {
    return inner_->DiscardStagedSamples(run_id, stage_id);
  }
  absl::StatusOr<std::vector<v1::Sample>> LoadSamples(const std::string& run_id, int64_t start,
                                                      int max_count) override {
    return inner_->LoadSamples(run_id, start, max_count);
  }
  absl::Status SaveSampleProgress(const std::string& run_id,
                                  const std::vector<internal::SampleProgress>& progress) override {
    return inner_->SaveSampleProgress(run_id, progress);
  }
  absl::StatusOr<std::vector<internal::SampleProgress>> LoadSampleProgress(
      const std::string& run_id) override {
    return inner_->LoadSampleProgress(run_id);
  }
  absl::Status SaveAnnotationLinks(const std::string& run_id,
                                   const std::vector<internal::AnnotationLink>& links) override {
    return inner_->SaveAnnotationLinks(run_id, links);
  }
  absl::StatusOr<std::vector<internal::AnnotationLink>> LoadAnnotationLinksForItem(
      const std::string& run_id, const std::string& item_id) override {
    return inner_->LoadAnnotationLinksForItem(run_id, item_id);
  }
  absl::StatusOr<std::vector<internal::AnnotationLink>> LoadAnnotationLinks(
      const std::string& run_id) override {
    return inner_->LoadAnnotationLinks(run_id);
  }
  absl::Status SaveDarwinState(const std::string& run_id,
                               const internal::DarwinRunState& state) override {
    return inner_->SaveDarwinState(run_id, state);
  }
  absl::StatusOr<internal::DarwinRunState> LoadDarwinState(const std::string& run_id) override {
    return inner_->LoadDarwinState(run_id);
  }
  absl::StatusOr<bool> AcquireLease(const std::string& run_id, const std::string& owner,
                                    absl::Duration ttl) override {
    return inner_->AcquireLease(run_id, owner, ttl);
  }
  absl::Status ReleaseLease(const std::string& run_id, const std::string& owner) override {
    return inner_->ReleaseLease(run_id, owner);
  }
  absl::StatusOr<std::vector<store::ClaimableRun>> ListClaimableRuns(
      int max_count, const std::string& owner) override {
    return inner_->ListClaimableRuns(max_count, owner);
  }

 private:
  RunStore* const inner_;
  std::atomic<bool> first_update_seen_{false};
};

internal::SampleProgress Completed(int64_t position) {
  internal::SampleProgress progress;
  progress.set_position(position);
  progress.set_sample_id(absl::StrCat("s", position));
  progress.set_step(internal::SAMPLE_STEP_LABELS_IMPORTED);
  return progress;
}

// Two saves race: the first computes its counters, then reaches the store
// after the second. The stored counters must still count both samples.
TEST(StoreUploadJournalTest, ASlowerSaveNeverOverwritesNewerCounters) {
  auto sqlite = store::SqliteRunStore::Create({.path = ":memory:"});
  ASSERT_TRUE(sqlite.ok()) << sqlite.status();
  store::NewRun run;
  run.key = {"tenant", "dataset", "raced"};
  run.record.set_state(v1::RUN_STATE_UPLOADING);
  run.record.mutable_progress()->set_samples_total(2);
  for (const char* id : {"s0", "s1"}) run.samples.emplace_back().set_id(id);
  auto created = (*sqlite)->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();

  SlowFirstUpdateStore store(sqlite->get());
  StoreUploadJournal journal(&store, created->run);
  absl::Status first_saved;
  std::thread first([&] { first_saved = journal.SaveProgress({Completed(0)}); });
  store.first_update_waiting.WaitForNotification();
  EXPECT_TRUE(journal.SaveProgress({Completed(1)}).ok());
  store.release.Notify();
  first.join();
  EXPECT_TRUE(first_saved.ok()) << first_saved;

  auto stored = (*sqlite)->GetRunByUid(created->run_id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->progress().samples_completed(), 2) << stored->progress().DebugString();
  EXPECT_EQ(stored->progress().samples_total(), 2);
}

}  // namespace
}  // namespace labelport::core
