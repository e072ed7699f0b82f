#include "tests/support/fake_backend/fake_annotation_backend.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "absl/strings/str_cat.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/common/log.h"

namespace labelport::testing {

const backend::BackendCapabilities& FakeCapabilities() {
  static const auto* const kCapabilities = new backend::BackendCapabilities{
      .name = "fake",
      .label_types = {"classification", "classifications", "detections", "polylines", "keypoints"},
      .attribute_types = {"text", "select", "radio", "checkbox"},
      .attribute_types_with_values = {"select", "radio"},
  };
  return *kCapabilities;
}
namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;

// Samples read (and progress records saved) per journal call.
constexpr int kPage = 256;

size_t Index(FakeAnnotationBackend::Call call) { return static_cast<size_t>(call); }

v1::LoadProgress Progress(v1::LoadStage stage, int64_t parsed, int64_t total) {
  v1::LoadProgress progress;
  progress.set_stage(stage);
  progress.set_items_parsed(parsed);
  progress.set_items_total(total);
  return progress;
}

const v1::SampleField* FieldOf(const v1::Sample& sample, const std::string& field) {
  for (const auto& f : sample.fields())
    if (f.field() == field) return &f;
  return nullptr;
}

}  // namespace

void FakeAnnotationBackend::FailSamples(std::set<std::string> sample_ids, std::string message) {
  absl::MutexLock lock(&mu_);
  failing_samples_ = std::move(sample_ids);
  failure_message_ = std::move(message);
}

void FakeAnnotationBackend::SetUploadResult(absl::Status status) {
  absl::MutexLock lock(&mu_);
  upload_result_ = std::move(status);
}

void FakeAnnotationBackend::SetDownloaded(const std::string& sample_id, const std::string& field,
                                          v1::FieldValue value) {
  absl::MutexLock lock(&mu_);
  downloaded_[{sample_id, field}] = std::move(value);
}

void FakeAnnotationBackend::SetLoadResult(absl::Status status) {
  absl::MutexLock lock(&mu_);
  load_result_ = std::move(status);
}

void FakeAnnotationBackend::SetStatusResult(absl::StatusOr<v1::GetRunStatusResponse> result) {
  absl::MutexLock lock(&mu_);
  status_set_ = true;
  status_result_ = std::move(result);
}

void FakeAnnotationBackend::SetCleanupResult(absl::StatusOr<v1::CleanupRunResponse> result) {
  absl::MutexLock lock(&mu_);
  cleanup_set_ = true;
  cleanup_result_ = std::move(result);
}

void FakeAnnotationBackend::Hold(Call call) {
  absl::MutexLock lock(&mu_);
  gates_[Index(call)].open = false;
}

void FakeAnnotationBackend::Release(Call call) {
  absl::MutexLock lock(&mu_);
  Gate& gate = gates_[Index(call)];
  gate.open = true;
  for (const auto& waiter : gate.waiters) (void)waiter->try_send(boost::system::error_code());
}

void FakeAnnotationBackend::ReleaseAll() {
  for (Call call : {Call::kUpload, Call::kLoad, Call::kStatus, Call::kCleanup}) Release(call);
}

FakeAnnotationBackend::Counts FakeAnnotationBackend::counts(Call call) const {
  absl::MutexLock lock(&mu_);
  return counts_[Index(call)];
}

std::vector<std::string> FakeAnnotationBackend::uploaded_runs() const {
  absl::MutexLock lock(&mu_);
  return uploaded_runs_;
}

std::vector<std::string> FakeAnnotationBackend::request_ids(Call call) const {
  absl::MutexLock lock(&mu_);
  return request_ids_[Index(call)];
}

void FakeAnnotationBackend::Started(Call call) {
  absl::MutexLock lock(&mu_);
  ++counts_[Index(call)].started;
  request_ids_[Index(call)].emplace_back(common::CurrentRequestId());
}

void FakeAnnotationBackend::Ended(Call call) {
  absl::MutexLock lock(&mu_);
  ++counts_[Index(call)].ended;
}

boost::asio::awaitable<bool> FakeAnnotationBackend::Pass(Call call) {
  const auto executor = co_await boost::asio::this_coro::executor;
  std::shared_ptr<Channel> waiter;
  {
    absl::MutexLock lock(&mu_);
    Gate& gate = gates_[Index(call)];
    if (gate.open) co_return true;
    waiter = std::make_shared<Channel>(executor, 1);
    gate.waiters.push_back(waiter);
    ++counts_[Index(call)].waiting;
  }
  bool passed = false;
  try {
    // The coroutine's cancellation slot reaches the receive: a terminal
    // cancellation ends it with an error (or throws, when it was emitted
    // before the receive started).
    auto [error] =
        co_await waiter->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
    passed = !error;
  } catch (const boost::system::system_error&) {
    passed = false;
  }
  absl::MutexLock lock(&mu_);
  Gate& gate = gates_[Index(call)];
  gate.waiters.erase(std::find(gate.waiters.begin(), gate.waiters.end(), waiter));
  --counts_[Index(call)].waiting;
  if (!passed) ++counts_[Index(call)].cancelled;
  co_return passed;
}

boost::asio::awaitable<absl::StatusOr<std::vector<v1::Sample>>> FakeAnnotationBackend::AllSamples(
    backend::UploadJournal& journal) {
  std::vector<v1::Sample> all;
  for (int64_t start = 0;; start += kPage) {
    auto page = co_await journal.LoadSamples(start, kPage);
    if (!page.ok()) co_return page.status();
    const bool last = static_cast<int>(page->size()) < kPage;
    for (auto& sample : *page) all.push_back(std::move(sample));
    if (last) break;
  }
  co_return all;
}

boost::asio::awaitable<absl::Status> FakeAnnotationBackend::UploadRun(
    backend::UploadJournal& journal) {
  Started(Call::kUpload);
  {
    absl::MutexLock lock(&mu_);
    uploaded_runs_.push_back(journal.run().name());
  }
  if (!co_await Pass(Call::kUpload)) {
    Ended(Call::kUpload);
    co_return absl::CancelledError("the upload was cancelled");
  }
  std::set<std::string> failing;
  std::string message;
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    failing = failing_samples_;
    message = failure_message_;
    result = upload_result_;
  }
  absl::Status status = absl::OkStatus();
  for (int64_t start = 0; status.ok(); start += kPage) {
    auto page = co_await journal.LoadSamples(start, kPage);
    if (!page.ok()) {
      status = page.status();
      break;
    }
    std::vector<SampleProgress> progress;
    for (size_t i = 0; i < page->size(); ++i) {
      const v1::Sample& sample = (*page)[i];
      SampleProgress& p = progress.emplace_back();
      p.set_position(start + static_cast<int64_t>(i));
      p.set_sample_id(sample.id());
      p.set_attempts(1);
      if (failing.contains(sample.id())) {
        p.set_step(labelport::internal::v1::SAMPLE_STEP_FAILED);
        p.set_error_stage("upload");
        p.set_error_message(message);
      } else {
        p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
        p.set_item_id(absl::StrCat("item-", sample.id()));
      }
    }
    const bool last = static_cast<int>(page->size()) < kPage;
    if (!progress.empty()) {
      status = journal.CheckLease();
      if (status.ok()) status = co_await journal.SaveProgress(std::move(progress));
    }
    if (last) break;
  }
  Ended(Call::kUpload);
  co_return status.ok() ? result : status;
}

boost::asio::awaitable<absl::Status> FakeAnnotationBackend::LoadRun(backend::UploadJournal& journal,
                                                                    backend::LoadSink& sink) {
  Started(Call::kLoad);
  auto end = [this](absl::Status status) {
    Ended(Call::kLoad);
    return status;
  };
  const int64_t total = journal.run().progress().samples_total();
  absl::Status s = co_await sink.OnProgress(Progress(v1::LOAD_STAGE_EXPORT_REQUESTED, 0, total));
  if (!s.ok()) co_return end(s);
  if (!co_await Pass(Call::kLoad)) co_return end(absl::CancelledError("the load was cancelled"));
  s = co_await sink.OnProgress(Progress(v1::LOAD_STAGE_EXPORT_READY, 0, total));
  if (!s.ok()) co_return end(s);
  s = co_await sink.OnProgress(Progress(v1::LOAD_STAGE_PARSING, 0, total));
  if (!s.ok()) co_return end(s);
  auto samples = co_await AllSamples(journal);
  if (!samples.ok()) co_return end(samples.status());
  int64_t position = 0;
  for (v1::Sample& sample : *samples) {
    backend::LoadedSample loaded;
    loaded.sample_id = sample.id();
    loaded.position = position++;
    for (const auto& schema : journal.run().label_schema().fields()) {
      backend::LoadedField& field = loaded.fields.emplace_back();
      field.field = schema.field();
      const v1::SampleField* stored = FieldOf(sample, schema.field());
      if (stored != nullptr) {
        field.downloaded = stored->value();
        field.frames.assign(stored->frames().begin(), stored->frames().end());
      }
      absl::MutexLock lock(&mu_);
      auto it = downloaded_.find({sample.id(), schema.field()});
      if (it != downloaded_.end()) field.downloaded = it->second;
    }
    loaded.stored = std::move(sample);
    s = co_await sink.OnSample(std::move(loaded));
    if (!s.ok()) co_return end(s);
  }
  s = co_await sink.OnProgress(Progress(v1::LOAD_STAGE_PARSING, total, total));
  if (!s.ok()) co_return end(s);
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    result = load_result_;
  }
  co_return end(result);
}

boost::asio::awaitable<absl::StatusOr<v1::GetRunStatusResponse>> FakeAnnotationBackend::GetStatus(
    backend::UploadJournal& journal) {
  Started(Call::kStatus);
  if (!co_await Pass(Call::kStatus)) {
    Ended(Call::kStatus);
    co_return absl::CancelledError("the status call was cancelled");
  }
  absl::StatusOr<v1::GetRunStatusResponse> result;
  {
    absl::MutexLock lock(&mu_);
    if (status_set_) {
      result = status_result_;
    } else {
      v1::GetRunStatusResponse response;
      const int64_t total = journal.run().progress().samples_total();
      v1::StatusCount* count = response.add_counts();
      count->set_status("new");
      count->set_item_count(total);
      response.set_total_items(total);
      result = std::move(response);
    }
  }
  Ended(Call::kStatus);
  co_return result;
}

boost::asio::awaitable<absl::StatusOr<v1::CleanupRunResponse>> FakeAnnotationBackend::Cleanup(
    backend::UploadJournal& journal) {
  Started(Call::kCleanup);
  if (!co_await Pass(Call::kCleanup)) {
    Ended(Call::kCleanup);
    co_return absl::CancelledError("the clean-up was cancelled");
  }
  absl::StatusOr<v1::CleanupRunResponse> result;
  {
    absl::MutexLock lock(&mu_);
    if (cleanup_set_) {
      result = cleanup_result_;
    } else {
      v1::CleanupRunResponse response;
      response.set_items_deleted(journal.run().progress().samples_total());
      result = std::move(response);
    }
  }
  Ended(Call::kCleanup);
  co_return result;
}

void FakeBackendProvider::RemoveCredentials(const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  without_credentials_.insert(tenant);
}

std::vector<std::string> FakeBackendProvider::requested_tenants() const {
  absl::MutexLock lock(&mu_);
  return requested_;
}

absl::StatusOr<std::shared_ptr<backend::AnnotationBackend>> FakeBackendProvider::BackendFor(
    const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  requested_.push_back(tenant);
  if (without_credentials_.contains(tenant))
    return absl::FailedPreconditionError(
        absl::StrCat("tenant '", tenant,
                     "' has no V7 API key (give it darwin.api_key_file in the tenants file)"));
  return backend_;
}

}  // namespace labelport::testing
