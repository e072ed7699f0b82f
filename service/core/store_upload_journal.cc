#include "service/core/store_upload_journal.h"

#include <utility>

#include "absl/strings/str_cat.h"
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
                                       std::shared_ptr<const std::atomic<bool>> lease_lost)
    : store_(store), lease_lost_(std::move(lease_lost)), run_(std::move(run)) {}

absl::Status StoreUploadJournal::CheckLease() const {
  if (lease_lost_ != nullptr && lease_lost_->load()) {
    return absl::AbortedError(absl::StrCat("run ", run_.uid(),
                                           ": this worker lost the run's lease to another worker, "
                                           "which continues the upload"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<labelport::v1::Sample>> StoreUploadJournal::LoadSamples(int64_t start,
                                                                                   int count) {
  auto samples = store_->LoadSamples(run_.uid(), start, count);
  if (!samples.ok()) return samples.status();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < samples->size(); ++i)
    label_counts_[start + static_cast<int64_t>(i)] = LabelCount((*samples)[i]);
  return samples;
}

absl::StatusOr<std::vector<SampleProgress>> StoreUploadJournal::LoadProgress() {
  auto progress = store_->LoadSampleProgress(run_.uid());
  if (!progress.ok()) return progress.status();
  absl::MutexLock lock(&mu_);
  for (const auto& p : *progress) progress_[p.position()] = p;
  return progress;
}

absl::Status StoreUploadJournal::SaveProgress(const std::vector<SampleProgress>& progress) {
  if (absl::Status lease = CheckLease(); !lease.ok()) return lease;
  if (progress.empty()) return absl::OkStatus();
  absl::Status s = store_->SaveSampleProgress(run_.uid(), progress);
  if (!s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& p : progress) progress_[p.position()] = p;
  }
  // The counters are computed inside the update, under the run's lock: of
  // several concurrent saves, the one stored last counts every record saved
  // before it, so a slower save never overwrites newer counters.
  auto updated = store_->UpdateRun(run_.uid(), [&](labelport::v1::AnnotationRun& run) {
    labelport::v1::RunProgress counters;
    std::vector<labelport::v1::SampleError> errors;
    {
      absl::MutexLock lock(&mu_);
      counters.set_samples_total(run_.progress().samples_total());
      counters.set_labels_total(run_.progress().labels_total());
      for (const auto& [position, p] : progress_) {
        const auto step = p.step();
        if (step == internal::SAMPLE_STEP_FAILED) {
          counters.set_samples_failed(counters.samples_failed() + 1);
          if (static_cast<int>(errors.size()) < kMaxReportedSampleErrors) {
            labelport::v1::SampleError e;
            e.set_sample_id(p.sample_id());
            e.set_stage(p.error_stage());
            e.set_message(p.error_message());
            errors.push_back(std::move(e));
          }
          if (!p.item_id().empty())
            counters.set_samples_registered(counters.samples_registered() + 1);
          continue;
        }
        if (step >= internal::SAMPLE_STEP_REGISTERED)
          counters.set_samples_registered(counters.samples_registered() + 1);
        if (step >= internal::SAMPLE_STEP_UPLOADED)
          counters.set_samples_uploaded(counters.samples_uploaded() + 1);
        if (step >= internal::SAMPLE_STEP_PROCESSED)
          counters.set_samples_processed(counters.samples_processed() + 1);
        if (step == internal::SAMPLE_STEP_LABELS_IMPORTED) {
          counters.set_samples_completed(counters.samples_completed() + 1);
          auto it = label_counts_.find(position);
          if (it != label_counts_.end())
            counters.set_labels_imported(counters.labels_imported() + it->second);
        }
      }
    }
    *run.mutable_progress() = counters;
    run.clear_sample_errors();
    for (auto& e : errors) *run.add_sample_errors() = std::move(e);
    return absl::OkStatus();
  });
  return updated.status();
}

absl::Status StoreUploadJournal::SaveLinks(
    const std::vector<labelport::internal::v1::AnnotationLink>& links) {
  if (absl::Status lease = CheckLease(); !lease.ok()) return lease;
  if (links.empty()) return absl::OkStatus();
  return store_->SaveAnnotationLinks(run_.uid(), links);
}

absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>
StoreUploadJournal::LoadLinksForItem(const std::string& item_id) {
  return store_->LoadAnnotationLinksForItem(run_.uid(), item_id);
}

absl::StatusOr<labelport::internal::v1::DarwinRunState> StoreUploadJournal::LoadBackendState() {
  return store_->LoadDarwinState(run_.uid());
}

absl::Status StoreUploadJournal::SaveBackendState(
    const labelport::internal::v1::DarwinRunState& state) {
  if (absl::Status lease = CheckLease(); !lease.ok()) return lease;
  return store_->SaveDarwinState(run_.uid(), state);
}

absl::Status StoreUploadJournal::SetEditorUrl(const std::string& url) {
  if (absl::Status lease = CheckLease(); !lease.ok()) return lease;
  return store_
      ->UpdateRun(run_.uid(),
                  [&](labelport::v1::AnnotationRun& run) {
                    run.set_editor_url(url);
                    return absl::OkStatus();
                  })
      .status();
}

}  // namespace labelport::core
