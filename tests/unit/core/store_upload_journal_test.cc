// StoreUploadJournal keeps the run's progress counters in step with its
// progress records (incrementally; a full rescan is the oracle), also when
// saves from several coroutines race, a run update fails, or a resumed job
// loads the records of an earlier one; and it refuses writes once its lease
// fence closes.
#include "service/core/store_upload_journal.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/core/lease_fence.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/core/fake_backends.h"
#include "tests/unit/core/forwarding_run_store.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;
namespace internal = labelport::internal::v1;
using ::labelport::core::testing::InMemoryStore;
using ::labelport::core::testing::NewRunOf;
using ::labelport::testing::RunSync;
using store::RunStore;

// Forwards to a real store; the first UpdateRun waits for `release` before
// it starts (a save that lost the race for the store).
class SlowFirstUpdateStore : public ForwardingRunStore {
 public:
  explicit SlowFirstUpdateStore(RunStore* inner) : ForwardingRunStore(inner) {}

  absl::StatusOr<v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                              const RunMutator& mutate) override {
    if (fail_next_update.exchange(false))
      return absl::UnavailableError("cannot connect to the store (test)");
    if (!slow_first_update) return inner_->UpdateRun(run_id, mutate);
    if (!first_update_seen_.exchange(true)) {
      first_update_waiting.Notify();
      release.WaitForNotification();
    }
    return inner_->UpdateRun(run_id, mutate);
  }
  absl::Status SaveSampleProgress(const std::string& run_id,
                                  const std::vector<internal::SampleProgress>& progress) override {
    ++progress_writes;
    return inner_->SaveSampleProgress(run_id, progress);
  }

  absl::Notification first_update_waiting;
  absl::Notification release;
  // Whether the first UpdateRun waits for `release`.
  bool slow_first_update = true;
  // The next UpdateRun fails with UNAVAILABLE (the store went away).
  std::atomic<bool> fail_next_update{false};
  // Every SaveSampleProgress call (records written).
  std::atomic<int> progress_writes{0};

 private:
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
  std::unique_ptr<store::SqliteRunStore> sqlite = InMemoryStore();
  ASSERT_NE(sqlite, nullptr);
  auto created =
      sqlite->CreateRun(NewRunOf("tenant", "raced", {"s0", "s1"}, v1::RUN_STATE_UPLOADING));
  ASSERT_TRUE(created.ok()) << created.status();

  SlowFirstUpdateStore store(sqlite.get());
  StoreUploadJournal journal(&store, created->run);
  absl::Status first_saved;
  std::thread first([&] { first_saved = RunSync(journal.SaveProgress({Completed(0)})); });
  store.first_update_waiting.WaitForNotification();
  EXPECT_TRUE(RunSync(journal.SaveProgress({Completed(1)})).ok());
  store.release.Notify();
  first.join();
  EXPECT_TRUE(first_saved.ok()) << first_saved;

  auto stored = sqlite->GetRunByUid(created->run_id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->progress().samples_completed(), 2) << stored->progress().DebugString();
  EXPECT_EQ(stored->progress().samples_total(), 2);
}

// ---- incremental counters against a full rescan ---------------------------

constexpr int kSamples = 60;

// Labels of sample `position`: (position % 4) classifications.
int LabelsOfSample(int position) { return position % 4; }

// A run of kSamples samples (labels as above), state UPLOADING.
struct TestRun {
  std::unique_ptr<store::RunStore> sqlite;
  std::string uid;
  v1::AnnotationRun record;
};

TestRun CreateTestRun() {
  std::unique_ptr<store::SqliteRunStore> sqlite = InMemoryStore();
  if (sqlite == nullptr) return {};
  store::NewRun run = NewRunOf("tenant", "counted", {}, v1::RUN_STATE_UPLOADING);
  run.record.mutable_progress()->set_samples_total(kSamples);
  int64_t labels = 0;
  for (int i = 0; i < kSamples; ++i) {
    v1::Sample& sample = run.samples.emplace_back();
    sample.set_id(absl::StrCat("s", i));
    v1::SampleField* field = sample.add_fields();
    field->set_field("tags");
    for (int k = 0; k < LabelsOfSample(i); ++k)
      field->mutable_value()->mutable_classifications()->add_classifications()->set_label("cat");
    labels += LabelsOfSample(i);
  }
  run.record.mutable_progress()->set_labels_total(labels);
  auto created = sqlite->CreateRun(run);
  EXPECT_TRUE(created.ok()) << created.status();
  return {std::move(sqlite), created->run_id, created->run};
}

// The oracle: the counters and errors a full rescan of `records` gives (the
// journal's rules: a failed sample counts as registered when it has an item).
v1::RunProgress Rescan(const std::map<int64_t, internal::SampleProgress>& records,
                       std::vector<std::string>* error_ids) {
  v1::RunProgress c;
  c.set_samples_total(kSamples);
  int64_t labels = 0;
  for (int i = 0; i < kSamples; ++i) labels += LabelsOfSample(i);
  c.set_labels_total(labels);
  for (const auto& [position, p] : records) {
    if (p.step() == internal::SAMPLE_STEP_FAILED) {
      c.set_samples_failed(c.samples_failed() + 1);
      if (!p.item_id().empty()) c.set_samples_registered(c.samples_registered() + 1);
      if (error_ids->size() < static_cast<size_t>(kMaxReportedSampleErrors))
        error_ids->push_back(p.sample_id());
      continue;
    }
    if (p.step() >= internal::SAMPLE_STEP_REGISTERED)
      c.set_samples_registered(c.samples_registered() + 1);
    if (p.step() >= internal::SAMPLE_STEP_UPLOADED)
      c.set_samples_uploaded(c.samples_uploaded() + 1);
    if (p.step() >= internal::SAMPLE_STEP_PROCESSED)
      c.set_samples_processed(c.samples_processed() + 1);
    if (p.step() == internal::SAMPLE_STEP_LABELS_IMPORTED) {
      c.set_samples_completed(c.samples_completed() + 1);
      c.set_labels_imported(c.labels_imported() + LabelsOfSample(static_cast<int>(position)));
    }
  }
  return c;
}

// Compares the stored run with the rescan of every record in the store.
void ExpectCountersMatchRescan(store::RunStore& sqlite, const std::string& uid) {
  auto stored_records = sqlite.LoadSampleProgressRange(uid, 0, 1 << 20);
  ASSERT_TRUE(stored_records.ok()) << stored_records.status();
  std::map<int64_t, internal::SampleProgress> records;
  for (const auto& p : *stored_records) records[p.position()] = p;
  std::vector<std::string> error_ids;
  const v1::RunProgress expected = Rescan(records, &error_ids);
  auto run = sqlite.GetRunByUid(uid);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->progress().DebugString(), expected.DebugString());
  std::vector<std::string> stored_error_ids;
  for (const auto& e : run->sample_errors()) stored_error_ids.push_back(e.sample_id());
  EXPECT_EQ(stored_error_ids, error_ids);
}

// One random step of a sample's life, as the backend makes them: forward
// one or more steps, fail at some stage (keeping or lacking an item), or a
// resumed failure going back to the step before it.
internal::SampleProgress NextRecord(const internal::SampleProgress* last, int64_t position,
                                    std::mt19937& rng) {
  internal::SampleProgress p;
  if (last != nullptr) p = *last;
  p.set_position(position);
  p.set_sample_id(absl::StrCat("s", position));
  const int roll = static_cast<int>(rng() % 10);
  if (p.step() == internal::SAMPLE_STEP_FAILED) {
    // A resume retries it from the step before the failure.
    p.set_attempts(p.attempts() + 1);
    p.clear_error_stage();
    p.clear_error_message();
    p.set_step(p.item_id().empty() ? internal::SAMPLE_STEP_REGISTERED
                                   : internal::SAMPLE_STEP_UPLOADED);
    if (p.item_id().empty()) p.set_item_id(absl::StrCat("item-", position));
    return p;
  }
  if (roll < 2 && p.step() != internal::SAMPLE_STEP_LABELS_IMPORTED) {
    p.set_step(internal::SAMPLE_STEP_FAILED);
    p.set_error_stage(roll == 0 ? "register" : "upload");
    p.set_error_message(absl::StrCat("failure ", rng() % 1000));
    return p;
  }
  switch (p.step()) {
    case internal::SAMPLE_STEP_UNSPECIFIED:
      p.set_item_id(absl::StrCat("item-", position));
      p.set_step(internal::SAMPLE_STEP_REGISTERED);
      break;
    case internal::SAMPLE_STEP_REGISTERED:
      p.set_step(internal::SAMPLE_STEP_UPLOADED);
      break;
    case internal::SAMPLE_STEP_UPLOADED:
      p.set_step(roll < 5 ? internal::SAMPLE_STEP_PROCESSED
                          : internal::SAMPLE_STEP_LABELS_IMPORTED);
      break;
    default:
      p.set_step(internal::SAMPLE_STEP_LABELS_IMPORTED);
      break;
  }
  return p;
}

// Saves random batches of records through `journal` (whose job loaded the
// samples first, as the backend does) and checks the counters after each.
void SaveRandomSequence(StoreUploadJournal& journal, store::RunStore& sqlite,
                        const std::string& uid, std::map<int64_t, internal::SampleProgress>& mine,
                        std::mt19937& rng, int saves) {
  for (int n = 0; n < saves; ++n) {
    std::vector<internal::SampleProgress> batch;
    const int size = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < size; ++k) {
      const int64_t position = static_cast<int64_t>(rng() % kSamples);
      auto last = mine.find(position);
      internal::SampleProgress p =
          NextRecord(last == mine.end() ? nullptr : &last->second, position, rng);
      mine[position] = p;
      batch.push_back(p);
    }
    ASSERT_TRUE(RunSync(journal.SaveProgress(batch)).ok());
    ASSERT_NO_FATAL_FAILURE(ExpectCountersMatchRescan(sqlite, uid)) << "after save " << n;
  }
}

TEST(StoreUploadJournalTest, IncrementalCountersEqualAFullRescanAfterEverySave) {
  TestRun run = CreateTestRun();
  StoreUploadJournal journal(run.sqlite.get(), run.record);
  ASSERT_TRUE(RunSync(journal.LoadSamples(0, kSamples)).ok());
  ASSERT_TRUE(RunSync(journal.LoadProgress(0, kSamples)).ok());
  std::mt19937 rng(15);
  std::map<int64_t, internal::SampleProgress> mine;
  SaveRandomSequence(journal, *run.sqlite, run.uid, mine, rng, 400);
  // The sequence went through failures and their retries.
  auto stored = run.sqlite->GetRunByUid(run.uid);
  ASSERT_TRUE(stored.ok());
  EXPECT_GT(stored->progress().samples_completed(), 0);
}

TEST(StoreUploadJournalTest, AResumedJournalCountsTheRecordsOfTheEarlierJob) {
  TestRun run = CreateTestRun();
  std::mt19937 rng(6);
  std::map<int64_t, internal::SampleProgress> mine;
  {
    StoreUploadJournal first(run.sqlite.get(), run.record);
    ASSERT_TRUE(RunSync(first.LoadSamples(0, kSamples)).ok());
    ASSERT_TRUE(RunSync(first.LoadProgress(0, kSamples)).ok());
    SaveRandomSequence(first, *run.sqlite, run.uid, mine, rng, 150);
  }
  // The run record as the next job starts from it (counters included).
  auto record = run.sqlite->GetRunByUid(run.uid);
  ASSERT_TRUE(record.ok());
  StoreUploadJournal second(run.sqlite.get(), *record);
  // Samples are loaded in chunks, as the backend does.
  ASSERT_TRUE(RunSync(second.LoadSamples(0, 25)).ok());
  ASSERT_TRUE(RunSync(second.LoadSamples(25, 25)).ok());
  ASSERT_TRUE(RunSync(second.LoadSamples(50, 25)).ok());
  auto loaded = RunSync(second.LoadProgress(0, kSamples));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), mine.size());
  SaveRandomSequence(second, *run.sqlite, run.uid, mine, rng, 150);
}

TEST(StoreUploadJournalTest, ReportsTheFailuresOfLowestPositionAndDropsRetriedOnes) {
  constexpr int kMany = kMaxReportedSampleErrors + 20;
  std::unique_ptr<store::SqliteRunStore> sqlite = InMemoryStore();
  ASSERT_NE(sqlite, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < kMany; ++i) ids.push_back(absl::StrCat("s", i));
  auto created = sqlite->CreateRun(NewRunOf("tenant", "errors", ids, v1::RUN_STATE_UNSPECIFIED));
  ASSERT_TRUE(created.ok()) << created.status();
  StoreUploadJournal journal(sqlite.get(), created->run);
  // Failures saved from the highest position down.
  for (int i = kMany - 1; i >= 0; --i) {
    internal::SampleProgress p;
    p.set_position(i);
    p.set_sample_id(absl::StrCat("s", i));
    p.set_step(internal::SAMPLE_STEP_FAILED);
    p.set_error_stage("upload");
    p.set_error_message(absl::StrCat("error ", i));
    ASSERT_TRUE(RunSync(journal.SaveProgress({p})).ok());
  }
  // Sample 0 is retried and completes: s1 .. s100 are reported.
  ASSERT_TRUE(RunSync(journal.SaveProgress({Completed(0)})).ok());
  auto run = sqlite->GetRunByUid(created->run_id);
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->sample_errors_size(), kMaxReportedSampleErrors);
  EXPECT_EQ(run->sample_errors(0).sample_id(), "s1");
  EXPECT_EQ(run->sample_errors(0).message(), "error 1");
  EXPECT_EQ(run->sample_errors(kMaxReportedSampleErrors - 1).sample_id(),
            absl::StrCat("s", kMaxReportedSampleErrors));
  EXPECT_EQ(run->progress().samples_failed(), kMany - 1);
  EXPECT_EQ(run->progress().samples_completed(), 1);
}

TEST(StoreUploadJournalTest, ASaveAfterAFailedRunUpdateStoresTheMissedCounts) {
  TestRun run = CreateTestRun();
  SlowFirstUpdateStore store(run.sqlite.get());
  store.slow_first_update = false;
  StoreUploadJournal journal(&store, run.record);
  ASSERT_TRUE(RunSync(journal.LoadSamples(0, kSamples)).ok());
  ASSERT_TRUE(RunSync(journal.LoadProgress(0, kSamples)).ok());
  store.fail_next_update = true;
  // The record is stored, the run update is not: the save fails (the
  // backend repeats it).
  EXPECT_EQ(RunSync(journal.SaveProgress({Completed(1)})).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(RunSync(journal.SaveProgress({Completed(2)})).ok());
  ExpectCountersMatchRescan(*run.sqlite, run.uid);
  auto stored = run.sqlite->GetRunByUid(run.uid);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->progress().samples_completed(), 2);
  EXPECT_EQ(stored->progress().labels_imported(), LabelsOfSample(1) + LabelsOfSample(2));
}

// ---- threads ---------------------------------------------------------------

// Records the thread of every store call the journal makes.
class ThreadRecordingStore : public ForwardingRunStore {
 public:
  using ForwardingRunStore::ForwardingRunStore;

  absl::StatusOr<std::vector<v1::Sample>> LoadSamples(const std::string& run_id, int64_t start,
                                                      int max_count) override {
    Record();
    return inner_->LoadSamples(run_id, start, max_count);
  }
  absl::StatusOr<std::vector<internal::SampleProgress>> LoadSampleProgressRange(
      const std::string& run_id, int64_t start, int max_count) override {
    Record();
    return inner_->LoadSampleProgressRange(run_id, start, max_count);
  }
  absl::Status SaveSampleProgress(const std::string& run_id,
                                  const std::vector<internal::SampleProgress>& progress) override {
    Record();
    return inner_->SaveSampleProgress(run_id, progress);
  }
  absl::StatusOr<v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                              const RunMutator& mutate) override {
    Record();
    return inner_->UpdateRun(run_id, mutate);
  }
  absl::Status SaveAnnotationLinks(const std::string& run_id,
                                   const std::vector<internal::AnnotationLink>& links) override {
    Record();
    return inner_->SaveAnnotationLinks(run_id, links);
  }
  absl::StatusOr<std::vector<internal::AnnotationLink>> LoadAnnotationLinksForItem(
      const std::string& run_id, const std::string& item_id) override {
    Record();
    return inner_->LoadAnnotationLinksForItem(run_id, item_id);
  }
  absl::Status SaveBackendState(const std::string& run_id,
                                const google::protobuf::Any& state) override {
    Record();
    return inner_->SaveBackendState(run_id, state);
  }
  absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) override {
    Record();
    return inner_->LoadBackendState(run_id);
  }

  std::multiset<std::thread::id> threads() {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  void Record() {
    absl::MutexLock lock(&mu_);
    threads_.insert(std::this_thread::get_id());
  }
  absl::Mutex mu_;
  std::multiset<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

// Every awaitable method's store call runs on the store pool; the awaiting
// coroutine resumes on its own (I/O) thread.
TEST(StoreUploadJournalTest, StoreCallsRunOnTheStorePoolNotOnTheAwaitingThread) {
  TestRun run = CreateTestRun();
  ThreadRecordingStore store(run.sqlite.get());
  boost::asio::thread_pool pool(1);
  std::promise<std::thread::id> pool_thread;
  boost::asio::post(pool, [&pool_thread] { pool_thread.set_value(std::this_thread::get_id()); });
  const std::thread::id pool_id = pool_thread.get_future().get();
  StoreUploadJournal journal(&store, run.record, nullptr, &pool);
  boost::asio::io_context io;
  const std::thread::id io_id = std::this_thread::get_id();
  int resumed_elsewhere = 0;
  auto check = [&] { resumed_elsewhere += std::this_thread::get_id() == io_id ? 0 : 1; };
  auto calls = [&]() -> boost::asio::awaitable<void> {
    EXPECT_TRUE((co_await journal.LoadSamples(0, 10)).ok());
    check();
    EXPECT_TRUE((co_await journal.LoadProgress(0, 10)).ok());
    check();
    std::vector<internal::SampleProgress> records{Completed(1)};
    EXPECT_TRUE((co_await journal.SaveProgress(std::move(records))).ok());
    check();
    internal::AnnotationLink link;
    link.set_annotation_id("a1");
    link.set_item_id("item-1");
    std::vector<internal::AnnotationLink> links{link};
    EXPECT_TRUE((co_await journal.SaveLinks(std::move(links))).ok());
    check();
    EXPECT_TRUE((co_await journal.LoadLinksForItem("item-1")).ok());
    check();
    google::protobuf::Any state;
    state.set_type_url("type.googleapis.com/example.State");
    state.set_value("opaque");
    EXPECT_TRUE((co_await journal.SaveBackendState(state)).ok());
    check();
    // The state passes through as the backend gave it.
    absl::StatusOr<google::protobuf::Any> loaded = co_await journal.LoadBackendState();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (loaded.ok()) {
      EXPECT_EQ(loaded->type_url(), state.type_url());
      EXPECT_EQ(loaded->value(), state.value());
    }
    check();
    EXPECT_TRUE((co_await journal.SetEditorUrl("https://example.invalid/")).ok());
    check();
  };
  std::future<void> done = boost::asio::co_spawn(io, calls(), boost::asio::use_future);
  io.run();
  done.get();
  EXPECT_EQ(resumed_elsewhere, 0);
  const std::multiset<std::thread::id> threads = store.threads();
  // LoadSamples, LoadSampleProgressRange, SaveSampleProgress + UpdateRun,
  // SaveAnnotationLinks, LoadAnnotationLinksForItem, SaveBackendState,
  // LoadBackendState, UpdateRun.
  EXPECT_EQ(threads.size(), 9u);
  EXPECT_EQ(threads.count(io_id), 0u);
  EXPECT_EQ(threads.count(pool_id), threads.size());
  pool.join();
}

// ---- fencing ----------------------------------------------------------------

TEST(StoreUploadJournalTest, RefusesEveryWriteBeforeAnUnrenewedLeaseCanExpire) {
  TestRun run = CreateTestRun();
  SlowFirstUpdateStore store(run.sqlite.get());
  store.slow_first_update = false;
  absl::Time now = absl::FromUnixSeconds(1000);
  // ttl 30 s, margin 10 s: writes stop 20 s after the last renewal.
  auto fence = std::make_shared<LeaseFence>(run.uid, absl::Seconds(30), absl::Seconds(10), now,
                                            [&now] { return now; });
  StoreUploadJournal journal(&store, run.record, fence);
  ASSERT_TRUE(RunSync(journal.SaveProgress({Completed(0)})).ok());
  EXPECT_EQ(store.progress_writes.load(), 1);

  // The renewals fail (the store is cut off): 20 s on, before the lease can
  // expire at 30 s, every write is refused without reaching the store.
  now += absl::Seconds(20) + absl::Milliseconds(1);
  EXPECT_EQ(journal.CheckLease().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(RunSync(journal.SaveProgress({Completed(1)})).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(RunSync(journal.SaveLinks({internal::AnnotationLink()})).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(RunSync(journal.SaveBackendState(google::protobuf::Any())).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(RunSync(journal.SetEditorUrl("https://example.invalid/")).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store.progress_writes.load(), 1);
  EXPECT_TRUE(fence->was_closed());

  // A renewal while still the owner opens the fence again.
  fence->MarkRenewed(now);
  EXPECT_TRUE(RunSync(journal.SaveProgress({Completed(1)})).ok());
  EXPECT_EQ(store.progress_writes.load(), 2);

  // A lease taken over stays lost, renewed or not.
  fence->MarkLost();
  fence->MarkRenewed(now + absl::Seconds(1));
  EXPECT_EQ(RunSync(journal.SaveProgress({Completed(2)})).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store.progress_writes.load(), 2);
}

}  // namespace
}  // namespace labelport::core
