// RunOperations never blocks an I/O thread on the store: every store call
// of LoadAnnotations, GetRunStatus and CleanupRun (the run lookup, the
// journal's V7 state and progress records the backend reads on its
// coroutine, the load's staging, commit and the clean-up's run update) runs
// on the store pool, while the calls themselves run on the io_context.
#include "service/core/run_operations.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/core/fake_backends.h"
#include "tests/unit/core/forwarding_run_store.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;
using ::labelport::core::testing::AnyTenantProvider;
using ::labelport::core::testing::InMemoryStore;
using ::labelport::core::testing::NewRunOf;
using ::labelport::core::testing::TestCapabilities;
using labelport::internal::v1::SampleProgress;

// Records which thread made each store call RunOperations and its journals
// make.
class ThreadRecordingStore : public ForwardingRunStore {
 public:
  using ForwardingRunStore::ForwardingRunStore;

  absl::StatusOr<v1::AnnotationRun> GetRun(const store::RunKey& key) override {
    Record("GetRun");
    return inner_->GetRun(key);
  }
  absl::StatusOr<v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                              const RunMutator& mutate) override {
    Record("UpdateRun");
    return inner_->UpdateRun(run_id, mutate);
  }
  absl::Status StageSamples(const std::string& run_id, const std::string& stage_id,
                            const std::vector<std::pair<int64_t, v1::Sample>>& samples) override {
    Record("StageSamples");
    return inner_->StageSamples(run_id, stage_id, samples);
  }
  absl::Status CommitStagedSamples(const std::string& run_id,
                                   const std::string& stage_id) override {
    Record("CommitStagedSamples");
    return inner_->CommitStagedSamples(run_id, stage_id);
  }
  absl::Status DiscardStagedSamples(const std::string& run_id,
                                    const std::string& stage_id) override {
    Record("DiscardStagedSamples");
    return inner_->DiscardStagedSamples(run_id, stage_id);
  }
  absl::StatusOr<std::vector<SampleProgress>> LoadSampleProgressRange(const std::string& run_id,
                                                                      int64_t start_position,
                                                                      int max_count) override {
    Record("LoadSampleProgressRange");
    return inner_->LoadSampleProgressRange(run_id, start_position, max_count);
  }
  absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) override {
    Record("LoadBackendState");
    return inner_->LoadBackendState(run_id);
  }

  // The calls made on `thread`, and all calls.
  std::vector<std::string> CallsOn(std::thread::id thread) {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [call, on] : calls_)
      if (on == thread) out.push_back(call);
    return out;
  }
  std::vector<std::string> Calls() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [call, on] : calls_) out.push_back(call);
    return out;
  }

 private:
  void Record(std::string call) {
    absl::MutexLock lock(&mu_);
    calls_.emplace_back(std::move(call), std::this_thread::get_id());
  }

  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::thread::id>> calls_ ABSL_GUARDED_BY(mu_);
};

// The type of JournalReadingBackend's state.
constexpr char kStateType[] = "type.googleapis.com/example.TestRunState";

// Reads the journal as DarwinBackend does (backend state and progress first, on
// its coroutine) and loads the run's one sample unchanged.
class JournalReadingBackend : public backend::AnnotationBackend {
 public:
  const backend::BackendCapabilities& Capabilities() const override { return TestCapabilities(); }
  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal&) override {
    co_return absl::UnimplementedError("not in this test");
  }
  boost::asio::awaitable<absl::Status> LoadRun(backend::UploadJournal& journal,
                                               backend::LoadSink& sink) override {
    auto progress = co_await ReadJournal(journal);
    if (!progress.ok()) co_return progress.status();
    if (progress->size() != 1) co_return absl::InternalError("expected one progress record");
    backend::LoadedSample loaded;
    loaded.sample_id = progress->front().sample_id();
    loaded.position = 0;
    loaded.stored.set_id(loaded.sample_id);
    co_return co_await sink.OnSample(std::move(loaded));
  }
  boost::asio::awaitable<absl::StatusOr<v1::GetRunStatusResponse>> GetStatus(
      backend::UploadJournal& journal) override {
    return CountedResponse(journal, &v1::GetRunStatusResponse::set_total_items);
  }
  boost::asio::awaitable<absl::StatusOr<v1::CleanupRunResponse>> Cleanup(
      backend::UploadJournal& journal) override {
    return CountedResponse(journal, &v1::CleanupRunResponse::set_items_deleted);
  }

 private:
  // A Response whose `set_count` field holds the number of progress records.
  template <typename Response>
  static boost::asio::awaitable<absl::StatusOr<Response>> CountedResponse(
      backend::UploadJournal& journal, void (Response::*set_count)(int64_t)) {
    auto progress = co_await ReadJournal(journal);
    if (!progress.ok()) co_return progress.status();
    Response response;
    (response.*set_count)(static_cast<int64_t>(progress->size()));
    co_return response;
  }

  static boost::asio::awaitable<absl::StatusOr<std::vector<SampleProgress>>> ReadJournal(
      backend::UploadJournal& journal) {
    auto state = co_await journal.LoadBackendState();
    if (!state.ok()) co_return state.status();
    if (state->type_url() != kStateType || state->value() != "dataset 7")
      co_return absl::InternalError("the journal's backend state is not the run's");
    co_return co_await journal.LoadProgress(0, 1000);
  }
};

// Runs `operation` on `io` (which another thread runs) and returns its
// result, or DEADLINE_EXCEEDED when it has not finished within 20 s.
template <typename Result>
Result Finish(boost::asio::io_context& io, boost::asio::awaitable<Result> operation) {
  std::future<Result> done =
      boost::asio::co_spawn(io, std::move(operation), boost::asio::use_future);
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    return absl::DeadlineExceededError("the operation did not finish within 20 s");
  return done.get();
}

TEST(RunOperationsTest, StoreCallsRunOnTheStorePoolNeverOnTheIoThread) {
  std::unique_ptr<store::SqliteRunStore> sqlite = InMemoryStore();
  ASSERT_NE(sqlite, nullptr);
  auto created = sqlite->CreateRun(NewRunOf("tenant", "threads", {"a"}, v1::RUN_STATE_ANNOTATING));
  ASSERT_TRUE(created.ok()) << created.status();
  google::protobuf::Any state;
  state.set_type_url(kStateType);
  state.set_value("dataset 7");
  ASSERT_TRUE(sqlite->SaveBackendState(created->run_id, state).ok());
  SampleProgress progress;
  progress.set_position(0);
  progress.set_sample_id("a");
  progress.set_item_id("item-a");
  progress.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
  ASSERT_TRUE(sqlite->SaveSampleProgress(created->run_id, {progress}).ok());

  ThreadRecordingStore store(sqlite.get());
  JournalReadingBackend backend;
  AnyTenantProvider backends(&backend);
  boost::asio::thread_pool store_pool(2);
  RunOperations operations(&store, &backends, nullptr, nullptr, &store_pool);
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  const std::string name = "datasets/dataset/runs/threads";

  v1::LoadAnnotationsRequest load;
  load.set_name(name);
  int emitted = 0;
  RunOperations::Emit emit =
      [&emitted](v1::LoadAnnotationsResponse) -> boost::asio::awaitable<absl::Status> {
    ++emitted;  // on the io thread, one call at a time
    co_return absl::OkStatus();
  };
  absl::Status load_status = Finish(io, operations.LoadAnnotations("tenant", load, emit));
  EXPECT_TRUE(load_status.ok()) << load_status;
  EXPECT_GE(emitted, 1);

  v1::GetRunStatusRequest status_request;
  status_request.set_name(name);
  auto status_response = Finish(io, operations.GetRunStatus("tenant", status_request));
  ASSERT_TRUE(status_response.ok()) << status_response.status();
  EXPECT_EQ(status_response->total_items(), 1);

  v1::CleanupRunRequest cleanup_request;
  cleanup_request.set_name(name);
  auto cleaned = Finish(io, operations.CleanupRun("tenant", cleanup_request));
  ASSERT_TRUE(cleaned.ok()) << cleaned.status();
  EXPECT_EQ(cleaned->run().state(), v1::RUN_STATE_CLEANED_UP);

  const std::thread::id io_thread_id = io_thread.get_id();
  work.reset();
  io_thread.join();

  // Every kind of call was made, none on the I/O thread.
  const std::vector<std::string> calls = store.Calls();
  for (const char* call : {"GetRun", "LoadBackendState", "LoadSampleProgressRange", "StageSamples",
                           "CommitStagedSamples", "UpdateRun"}) {
    EXPECT_NE(std::find(calls.begin(), calls.end(), call), calls.end()) << call;
  }
  EXPECT_EQ(store.CallsOn(io_thread_id), std::vector<std::string>{});
}

}  // namespace
}  // namespace labelport::core
