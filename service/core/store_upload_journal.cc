#include "service/core/store_upload_journal.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/await_on_pool.h"
#include "service/core/field_values.h"

namespace labelport::core {
namespace {

using labelport::internal::v1::SampleProgress;
namespace internal = labelport::internal::v1;

int64_t LabelCount(const labelport::v1::Sample& sample) {
  int64_t n = 0;
  for (const auto& f : sample.fields()) {
    n += static_cast<int64_t>(LabelsOf(f.value()).size());
    for (const auto& fr : f.frames()) n += static_cast<int64_t>(LabelsOf(fr.value()).size());
  }
  return n;
}

}  // namespace

StoreUploadJournal::StoreUploadJournal(store::RunStore* store, labelport::v1::AnnotationRun run,
                                       std::shared_ptr<const LeaseFence> fence,
                                       boost::asio::thread_pool* store_pool)
    : store_(store), store_pool_(store_pool), fence_(std::move(fence)), run_(std::move(run)) {
  absl::MutexLock lock(&mu_);
  counters_.set_samples_total(run_.progress().samples_total());
  // Sized once (a grown vector could hold twice the bytes).
  counted_.reserve(run_.progress().samples_total());
  label_counts_.reserve(run_.progress().samples_total());
  counters_.set_labels_total(run_.progress().labels_total());
}

absl::Status StoreUploadJournal::CheckLease() {
  return fence_ == nullptr ? absl::OkStatus() : fence_->Check();
}

StoreUploadJournal::Counted StoreUploadJournal::CountedOf(const SampleProgress& p) {
  return static_cast<Counted>(kHasRecord | (p.item_id().empty() ? 0 : kHasItem) |
                              (static_cast<int>(p.step()) & 0x3f));
}

void StoreUploadJournal::Count(Counted counted, int64_t position, int sign) {
  if ((counted & kHasRecord) == 0) return;
  auto add = [sign](int64_t value) { return value + sign; };
  const int step = counted & 0x3f;
  const bool has_item = (counted & kHasItem) != 0;
  if (step == internal::SAMPLE_STEP_FAILED) {
    counters_.set_samples_failed(add(counters_.samples_failed()));
    if (has_item) counters_.set_samples_registered(add(counters_.samples_registered()));
    return;
  }
  if (step >= internal::SAMPLE_STEP_REGISTERED)
    counters_.set_samples_registered(add(counters_.samples_registered()));
  if (step >= internal::SAMPLE_STEP_UPLOADED)
    counters_.set_samples_uploaded(add(counters_.samples_uploaded()));
  if (step >= internal::SAMPLE_STEP_PROCESSED)
    counters_.set_samples_processed(add(counters_.samples_processed()));
  if (step == internal::SAMPLE_STEP_LABELS_IMPORTED) {
    counters_.set_samples_completed(add(counters_.samples_completed()));
    if (position < static_cast<int64_t>(label_counts_.size()))
      counters_.set_labels_imported(counters_.labels_imported() +
                                    int64_t{sign} * label_counts_[position]);
  }
}

void StoreUploadJournal::Replace(const SampleProgress& p) {
  const int64_t position = p.position();
  if (position < 0) return;  // the store refuses it
  if (position >= static_cast<int64_t>(counted_.size())) counted_.resize(position + 1, 0);
  Counted& counted = counted_[position];
  const bool was_failed =
      (counted & kHasRecord) != 0 && (counted & 0x3f) == internal::SAMPLE_STEP_FAILED;
  Count(counted, position, -1);
  counted = CountedOf(p);
  Count(counted, position, +1);
  if (p.step() == internal::SAMPLE_STEP_FAILED) {
    labelport::v1::SampleError& e = failed_[position];
    e.set_sample_id(p.sample_id());
    e.set_stage(p.error_stage());
    e.set_message(p.error_message());
  } else if (was_failed) {
    failed_.erase(position);
  }
  ++version_;
}

template <typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> StoreUploadJournal::OnStore(F call) {
  if (store_pool_ == nullptr) co_return call();
  co_return co_await common::AwaitOnPool(*store_pool_, std::move(call));
}

absl::StatusOr<std::vector<labelport::v1::Sample>> StoreUploadJournal::LoadSamplesBlocking(
    int64_t start, int count) {
  auto samples = store_->LoadSamples(run_.uid(), start, count);
  if (!samples.ok()) return samples.status();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < samples->size(); ++i) {
    const int64_t position = start + static_cast<int64_t>(i);
    if (position >= static_cast<int64_t>(label_counts_.size())) {
      label_counts_.resize(position + 1, 0);
      counted_.resize(std::max(counted_.size(), label_counts_.size()), 0);
    }
    const auto labels = static_cast<int32_t>(LabelCount((*samples)[i]));
    if (labels == label_counts_[position]) continue;
    // A completed record counts its sample's labels: recount it.
    Count(counted_[position], position, -1);
    label_counts_[position] = labels;
    Count(counted_[position], position, +1);
    if ((counted_[position] & kHasRecord) != 0) ++version_;
  }
  return samples;
}

boost::asio::awaitable<absl::StatusOr<std::vector<labelport::v1::Sample>>>
StoreUploadJournal::LoadSamples(int64_t start, int count) {
  auto call = [this, start, count] { return LoadSamplesBlocking(start, count); };
  co_return co_await OnStore(std::move(call));
}

absl::StatusOr<std::vector<SampleProgress>> StoreUploadJournal::LoadProgressBlocking(int64_t start,
                                                                                     int count) {
  auto progress = store_->LoadSampleProgressRange(run_.uid(), start, count);
  if (!progress.ok()) return progress.status();
  absl::MutexLock lock(&mu_);
  for (const auto& p : *progress) {
    // Counted once: later changes of the position come through SaveProgress
    // (a page read while a save of the same position runs may be older).
    const int64_t position = p.position();
    if (position < 0) continue;
    if (position < static_cast<int64_t>(counted_.size()) && counted_[position] != 0) continue;
    Replace(p);
  }
  return progress;
}

boost::asio::awaitable<absl::StatusOr<std::vector<SampleProgress>>>
StoreUploadJournal::LoadProgress(int64_t start, int count) {
  auto call = [this, start, count] { return LoadProgressBlocking(start, count); };
  co_return co_await OnStore(std::move(call));
}

boost::asio::awaitable<absl::Status> StoreUploadJournal::SaveProgress(
    std::vector<SampleProgress> progress) {
  if (absl::Status lease = CheckLease(); !lease.ok()) co_return lease;
  if (progress.empty()) co_return absl::OkStatus();
  auto call = [this, progress = std::move(progress)] { return SaveProgressBlocking(progress); };
  co_return co_await OnStore(std::move(call));
}

absl::Status StoreUploadJournal::SaveProgressBlocking(const std::vector<SampleProgress>& progress) {
  absl::Status s = store_->SaveSampleProgress(run_.uid(), progress);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& p : progress) Replace(p);
    if (version_ == stored_version_) return absl::OkStatus();
  }
  // The counters are read inside the update, under the run's lock: of
  // several concurrent saves, the one stored last counts every record saved
  // before it, so a slower save never overwrites newer counters.
  int64_t version = 0;
  auto updated = store_->UpdateRun(run_.uid(), [&](labelport::v1::AnnotationRun& run) {
    absl::MutexLock lock(&mu_);
    version = version_;
    *run.mutable_progress() = counters_;
    run.clear_sample_errors();
    for (const auto& [position, e] : failed_) {
      if (run.sample_errors_size() >= kMaxReportedSampleErrors) break;
      *run.add_sample_errors() = e;
    }
    return absl::OkStatus();
  });
  if (!updated.ok()) return updated.status();
  absl::MutexLock lock(&mu_);
  stored_version_ = std::max(stored_version_, version);
  return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> StoreUploadJournal::SaveLinks(
    std::vector<labelport::internal::v1::AnnotationLink> links) {
  if (absl::Status lease = CheckLease(); !lease.ok()) co_return lease;
  if (links.empty()) co_return absl::OkStatus();
  auto call = [this, links = std::move(links)] {
    return store_->SaveAnnotationLinks(run_.uid(), links);
  };
  co_return co_await OnStore(std::move(call));
}

absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>
StoreUploadJournal::LoadLinksForItemBlocking(const std::string& item_id) {
  return store_->LoadAnnotationLinksForItem(run_.uid(), item_id);
}

boost::asio::awaitable<absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>>
StoreUploadJournal::LoadLinksForItem(std::string item_id) {
  auto call = [this, item_id = std::move(item_id)] { return LoadLinksForItemBlocking(item_id); };
  co_return co_await OnStore(std::move(call));
}

boost::asio::awaitable<absl::StatusOr<google::protobuf::Any>>
StoreUploadJournal::LoadBackendState() {
  auto call = [this] { return store_->LoadBackendState(run_.uid()); };
  co_return co_await OnStore(std::move(call));
}

boost::asio::awaitable<absl::Status> StoreUploadJournal::SaveBackendState(
    google::protobuf::Any state) {
  if (absl::Status lease = CheckLease(); !lease.ok()) co_return lease;
  auto call = [this, state = std::move(state)] {
    return store_->SaveBackendState(run_.uid(), state);
  };
  co_return co_await OnStore(std::move(call));
}

boost::asio::awaitable<absl::Status> StoreUploadJournal::SetEditorUrl(std::string url) {
  if (absl::Status lease = CheckLease(); !lease.ok()) co_return lease;
  auto call = [this, url = std::move(url)] {
    return store_
        ->UpdateRun(run_.uid(),
                    [&](labelport::v1::AnnotationRun& run) {
                      run.set_editor_url(url);
                      return absl::OkStatus();
                    })
        .status();
  };
  co_return co_await OnStore(std::move(call));
}

}  // namespace labelport::core
