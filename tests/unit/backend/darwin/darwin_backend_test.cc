// DarwinBackend's upload job over the real journal and store, against an
// in-process darwin-sim (no sockets): a run larger than the job's window is
// read from the store in bounded pages only (the job's memory does not grow
// with the run), and every store call of the journal runs on the store pool,
// never on the I/O threads that run the job.
#include "service/backend/darwin/darwin_backend.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "query_params.h"
#include "service/backend/darwin/darwin_run_state.h"
#include "service/core/store_upload_journal.h"
#include "service/store/sqlite_run_store.h"
#include "sim_app.h"
#include "tests/unit/core/forwarding_run_store.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;
using ::testing::HasSubstr;

constexpr char kKey[] = "ABCDEFG.0123456789abcdef0123456789abcdef";
constexpr char kBaseUrl[] = "http://127.0.0.1:9";

// Answers every request from the sim's request pipeline, in process.
class SimHttpClient : public http::HttpClient {
 public:
  explicit SimHttpClient(darwin_sim::SimApp* app) : app_(app) {}

  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> Send(http::HttpRequest request,
                                                                  int64_t) override {
    co_return Handle(request);
  }
  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> SendStreaming(
      http::HttpRequest request, http::BodyChunkSink sink) override {
    absl::StatusOr<http::HttpResponse> response = Handle(request);
    if (!response.ok()) co_return response;
    absl::Status s = co_await sink(response->body);
    if (!s.ok()) co_return s;
    response->body.clear();
    co_return response;
  }

  absl::StatusOr<http::HttpResponse> Handle(const http::HttpRequest& request) {
    if (request.body_factory) return absl::UnimplementedError("no streamed bodies here");
    darwin_sim::SimRequest req;
    req.method = request.method;
    std::string target = request.url.substr(std::string(kBaseUrl).size());
    const size_t q = target.find('?');
    req.path = darwin_sim::NormalizePath(target.substr(0, q));
    if (q != std::string::npos) {
      req.raw_query = target.substr(q + 1);
      req.query = darwin_sim::QueryParams::Parse(req.raw_query);
    }
    for (const auto& [name, value] : request.headers)
      req.headers[absl::AsciiStrToLower(name)] = value;
    req.body = request.body;
    req.base_url = kBaseUrl;
    darwin_sim::Outcome outcome = app_->Handle(req);
    http::HttpResponse response;
    response.status = outcome.response.status;
    response.body = std::move(outcome.response.body);
    if (!outcome.response.content_type.empty())
      response.headers.emplace_back("Content-Type", outcome.response.content_type);
    for (auto& h : outcome.response.headers) response.headers.push_back(std::move(h));
    return response;
  }

 private:
  darwin_sim::SimApp* app_;
};

// Records what the journal asks of the store: the largest page of samples
// and of progress records, full progress reads, and whether any call ran on
// one of `forbidden` threads (the I/O threads).
class RecordingRunStore : public core::ForwardingRunStore {
 public:
  using ForwardingRunStore::ForwardingRunStore;

  void ForbidThread(std::thread::id id) {
    absl::MutexLock lock(&mu_);
    forbidden_.insert(id);
  }

  absl::StatusOr<std::vector<v1::Sample>> LoadSamples(const std::string& run_id, int64_t start,
                                                      int max_count) override {
    Record();
    largest_sample_page_ = std::max(largest_sample_page_.load(), max_count);
    return ForwardingRunStore::LoadSamples(run_id, start, max_count);
  }
  absl::StatusOr<std::vector<SampleProgress>> LoadSampleProgressRange(const std::string& run_id,
                                                                      int64_t start,
                                                                      int max_count) override {
    Record();
    largest_progress_page_ = std::max(largest_progress_page_.load(), max_count);
    return ForwardingRunStore::LoadSampleProgressRange(run_id, start, max_count);
  }
  absl::Status SaveSampleProgress(const std::string& run_id,
                                  const std::vector<SampleProgress>& progress) override {
    Record();
    return ForwardingRunStore::SaveSampleProgress(run_id, progress);
  }
  absl::StatusOr<v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                              const RunMutator& mutate) override {
    Record();
    return ForwardingRunStore::UpdateRun(run_id, mutate);
  }
  absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) override {
    Record();
    return ForwardingRunStore::LoadBackendState(run_id);
  }
  absl::Status SaveBackendState(const std::string& run_id,
                                const google::protobuf::Any& state) override {
    Record();
    return ForwardingRunStore::SaveBackendState(run_id, state);
  }

  std::atomic<int> largest_sample_page_{0};
  std::atomic<int> largest_progress_page_{0};
  std::atomic<int> calls_{0};
  std::atomic<int> calls_on_forbidden_threads_{0};

 private:
  void Record() {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (forbidden_.contains(std::this_thread::get_id())) ++calls_on_forbidden_threads_;
  }

  absl::Mutex mu_;
  std::set<std::thread::id> forbidden_ ABSL_GUARDED_BY(mu_);
};

class DarwinBackendUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    darwin_sim::SimAppOptions options;
    options.teams.push_back({"team", "Team", kKey});
    auto app = darwin_sim::SimApp::Create(options);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *std::move(app);
    http_ = std::make_unique<SimHttpClient>(app_.get());
    // The storage: one small PNG that every sample names.
    char dir_template[] = "/tmp/labelport-backend-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    storage_dir_ = dir_template;
    std::ofstream(storage_dir_ + "/image.png", std::ios::binary) << Png(4, 3);
    darwin_sim::SimRequest storage;
    storage.method = "POST";
    storage.path = "/_sim/storage";
    storage.body = absl::StrCat(R"({"slug": "bench", "directory": ")", storage_dir_, R"("})");
    storage.base_url = kBaseUrl;
    ASSERT_EQ(app_->Handle(storage).response.status, 200);

    auto sqlite = store::SqliteRunStore::Create({.path = ":memory:"});
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
    sqlite_ = *std::move(sqlite);
    store_ = std::make_unique<RecordingRunStore>(sqlite_.get());
    DarwinClient::Options client_options;
    client_options.base_url = kBaseUrl;
    client_options.api_key = kKey;
    auto client = DarwinClient::Create(http_.get(), nullptr, client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void TearDown() override { std::filesystem::remove_all(storage_dir_); }

  static std::string Png(uint32_t w, uint32_t h) {
    auto be32 = [](uint32_t v) {
      return std::string{static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 255),
                         static_cast<char>((v >> 8) & 255), static_cast<char>(v & 255)};
    };
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(w) + be32(h) +
           std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
  }

  // A run of `count` samples in the bench storage (registration only).
  v1::AnnotationRun CreateRun(int count) {
    store::NewRun run;
    run.key = {"tenant", "dataset", "scale"};
    run.record.set_state(v1::RUN_STATE_UPLOADING);
    run.record.mutable_progress()->set_samples_total(count);
    run.record.mutable_darwin()->set_dataset_slug("scale");
    run.record.mutable_darwin()->set_external_storage("bench");
    for (int k = 0; k < count; ++k) {
      v1::Sample& sample = run.samples.emplace_back();
      sample.set_id(absl::StrCat("s", k));
      sample.set_media_type(v1::MEDIA_TYPE_IMAGE);
      sample.mutable_media()->mutable_storage()->set_storage_key("image.png");
    }
    auto created = sqlite_->CreateRun(run);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->run : v1::AnnotationRun();
  }

  // Runs the upload on two I/O threads, the journal's store calls on a
  // store pool of two.
  absl::Status Upload(const v1::AnnotationRun& run) {
    DarwinBackend::Options options;
    options.poll_initial = absl::Milliseconds(5);
    options.poll_max = absl::Milliseconds(20);
    options.processing_timeout = absl::Seconds(60);
    options.outage_max_wait = absl::ZeroDuration();
    DarwinBackend backend(client_.get(), http_.get(), options);
    boost::asio::thread_pool store_pool(2);
    core::StoreUploadJournal journal(store_.get(), run, nullptr, &store_pool);
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::vector<std::thread> io_threads;
    for (int i = 0; i < 2; ++i) io_threads.emplace_back([&io] { io.run(); });
    for (const auto& t : io_threads) store_->ForbidThread(t.get_id());
    std::future<absl::Status> done =
        boost::asio::co_spawn(io, backend.UploadRun(journal), boost::asio::use_future);
    absl::Status status = absl::DeadlineExceededError("the upload did not end within 120 s");
    if (done.wait_for(std::chrono::seconds(120)) == std::future_status::ready) status = done.get();
    work.reset();
    io.stop();
    for (auto& t : io_threads) t.join();
    store_pool.join();
    return status;
  }

  std::unique_ptr<darwin_sim::SimApp> app_;
  std::unique_ptr<SimHttpClient> http_;
  std::string storage_dir_;
  std::unique_ptr<store::RunStore> sqlite_;
  std::unique_ptr<RecordingRunStore> store_;
  std::unique_ptr<DarwinClient> client_;
};

TEST_F(DarwinBackendUploadTest, ARunLargerThanTheWindowIsReadInBoundedPagesOffTheIoThreads) {
  // More than the job's window (2000) and than the processing wait's
  // by-id limit (200): the wait lists the dataset page by page.
  constexpr int kSamples = 4500;
  const v1::AnnotationRun run = CreateRun(kSamples);
  ASSERT_FALSE(run.uid().empty());

  ASSERT_TRUE(Upload(run).ok());

  // Every sample is complete, exactly once in V7.
  auto progress = sqlite_->LoadSampleProgressRange(run.uid(), 0, kSamples);
  ASSERT_TRUE(progress.ok()) << progress.status();
  ASSERT_EQ(progress->size(), static_cast<size_t>(kSamples));
  std::set<std::string> items;
  for (const SampleProgress& p : *progress) {
    EXPECT_EQ(p.step(), labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED) << p.position();
    EXPECT_EQ(p.width(), 4) << p.position();
    items.insert(p.item_id());
  }
  EXPECT_EQ(items.size(), static_cast<size_t>(kSamples));
  auto stored = sqlite_->GetRunByUid(run.uid());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->progress().samples_completed(), kSamples);
  EXPECT_EQ(stored->progress().samples_failed(), 0);

  // Bounded pages only (the store has no whole-run read).
  EXPECT_GT(store_->largest_sample_page_.load(), 0);
  EXPECT_LE(store_->largest_sample_page_.load(), 2000);
  EXPECT_GT(store_->largest_progress_page_.load(), 0);
  EXPECT_LE(store_->largest_progress_page_.load(), 2000);
  // No store call on an I/O thread.
  EXPECT_GT(store_->calls_.load(), 0);
  EXPECT_EQ(store_->calls_on_forbidden_threads_.load(), 0);

  // A second job over the finished run (a resume) registers nothing again.
  ASSERT_TRUE(Upload(run).ok());
  auto again = sqlite_->LoadSampleProgressRange(run.uid(), 0, kSamples);
  ASSERT_TRUE(again.ok()) << again.status();
  std::set<std::string> items_again;
  for (const SampleProgress& p : *again) items_again.insert(p.item_id());
  EXPECT_EQ(items_again, items);
  EXPECT_EQ(store_->calls_on_forbidden_threads_.load(), 0);
}

// The V7 state the job saves is opaque to the store (a DarwinRunState in a
// google.protobuf.Any); a resume reads it back and reuses its dataset.
TEST_F(DarwinBackendUploadTest, AResumeReusesTheSavedState) {
  const v1::AnnotationRun run = CreateRun(3);
  ASSERT_FALSE(run.uid().empty());
  ASSERT_TRUE(Upload(run).ok());
  auto saved = sqlite_->LoadBackendState(run.uid());
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->type_url(), "type.googleapis.com/labelport.internal.v1.DarwinRunState");
  auto state = UnpackDarwinRunState(*saved, run.uid());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_NE(state->dataset_id(), 0);
  EXPECT_EQ(state->team_slug(), "team");

  ASSERT_TRUE(Upload(run).ok());
  auto resumed = sqlite_->LoadBackendState(run.uid());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto resumed_state = UnpackDarwinRunState(*resumed, run.uid());
  ASSERT_TRUE(resumed_state.ok()) << resumed_state.status();
  EXPECT_EQ(resumed_state->dataset_id(), state->dataset_id());
}

// A backend state of another type (another backend's run) stops the job
// before it writes to V7, naming the run and both types.
TEST_F(DarwinBackendUploadTest, AnotherBackendsStateIsRefused) {
  const v1::AnnotationRun run = CreateRun(2);
  ASSERT_FALSE(run.uid().empty());
  google::protobuf::Any other;
  other.set_type_url("type.googleapis.com/example.OtherRunState");
  other.set_value("x");
  ASSERT_TRUE(sqlite_->SaveBackendState(run.uid(), other).ok());
  absl::Status status = Upload(run);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr(run.uid()));
  EXPECT_THAT(status.message(), HasSubstr("type.googleapis.com/example.OtherRunState"));
  EXPECT_THAT(status.message(), HasSubstr("labelport.internal.v1.DarwinRunState"));
  auto progress = sqlite_->LoadSampleProgressRange(run.uid(), 0, 2);
  ASSERT_TRUE(progress.ok()) << progress.status();
  EXPECT_TRUE(progress->empty());
}

}  // namespace
}  // namespace labelport::backend::darwin
