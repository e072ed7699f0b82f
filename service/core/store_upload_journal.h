// StoreUploadJournal: the UploadJournal of one run, over the RunStore.
// Keeps the run's progress counters and the first sample errors in the run
// record in step with every saved progress record.
// Not thread-safe beyond what the backend needs: SaveProgress may be called
// from several coroutines at once (guarded internally).
//
// Fencing: a journal given a `lease_lost` flag refuses every write once the
// flag is set (ABORTED: another worker took the run's lease over and carries
// on with the upload), so a worker that lost its lease stops at its next
// step instead of uploading beside the new owner.
#ifndef LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_
#define LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "service/backend/annotation_backend.h"
#include "service/store/run_store.h"

namespace labelport::core {

// At most this many per-sample errors are copied into the run record.
inline constexpr int kMaxReportedSampleErrors = 100;

class StoreUploadJournal : public backend::UploadJournal {
 public:
  // `store` must outlive the journal. `run` is the record when the job began.
  // `lease_lost`, when given, is set by whoever watches the run's lease.
  StoreUploadJournal(store::RunStore* store, labelport::v1::AnnotationRun run,
                     std::shared_ptr<const std::atomic<bool>> lease_lost = nullptr);

  const labelport::v1::AnnotationRun& run() const override { return run_; }
  absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamples(int64_t start, int count) override;
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> LoadProgress() override;
  absl::Status SaveProgress(
      const std::vector<labelport::internal::v1::SampleProgress>& progress) override;
  absl::Status SaveLinks(
      const std::vector<labelport::internal::v1::AnnotationLink>& links) override;
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadLinksForItem(
      const std::string& item_id) override;
  absl::StatusOr<labelport::internal::v1::DarwinRunState> LoadBackendState() override;
  absl::Status SaveBackendState(const labelport::internal::v1::DarwinRunState& state) override;
  absl::Status SetEditorUrl(const std::string& url) override;

 private:
  // ABORTED once the lease is lost, OK otherwise.
  absl::Status CheckLease() const;

  store::RunStore* store_;
  const std::shared_ptr<const std::atomic<bool>> lease_lost_;
  const labelport::v1::AnnotationRun run_;
  absl::Mutex mu_;
  std::map<int64_t, labelport::internal::v1::SampleProgress> progress_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int64_t> label_counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_
