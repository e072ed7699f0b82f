// UploadJob: one upload of a run to V7 (DarwinBackend::UploadRun), from a
// fresh start or a resume. Steps, in order (darwin_backend.h gives the
// pipeline's spec):
//
//   LoadState       read the run into the compact index (UploadIndex) and
//                   the V7 state (DarwinRunState) from the journal;
//   ResolveDataset  get or create the dataset by slug; records whether the
//                   run created it, and the editor URL;
//   Register        register not yet registered samples, window by window
//                   (item_registration.h);
//   RefreshResumed  re-read from V7 the items whose last step a crashed job
//                   may not have recorded; re-register vanished ones;
//   then side by side to the end:
//   UploadAll       sign → PUT → confirm each REGISTERED sample
//                   (upload_concurrency at once);
//   ProcessAndImport  classes and properties (class_sync.h), then the
//                   processing wait (processing_poll.h) feeding
//                   import_concurrency import workers (annotation_import.h).
//
// Resume and crash guarantees: every step is recorded per sample in the
// journal before the next starts (an UPLOADED record is saved before the
// processing wait can see it, an AnnotationLink before its import), so a job
// that dies at any point is resumed by a new UploadJob on the same journal:
// FAILED samples are retried from the step before their failure, items whose
// state was not recorded are re-read from V7, imports overwrite with
// deterministic annotation ids.
//
// Failures: a per-sample V7 call that exhausts DarwinClient's retries fails
// that sample (reported, retried by a resume); a run-wide one (dataset,
// registration batch, classes) fails the run. A V7 outage is waited out
// (V7OutageWait) and the step repeated. A store outage pauses the job
// (UploadGuard::Durably); a store error that is not transient (the run was
// deleted) stops it with that error.
//
// Fencing and cancellation: every V7 write starts only while the journal's
// CheckLease is OK and is abandoned (its coroutine cancelled) when the
// journal reports the lease fence closed while it is in flight (WatchLease).
// The job then stops at its next step and Run returns the fence's status
// (ABORTED), see UploadGuard. The job is not cancelled otherwise: its caller
// stops it by closing the fence.
//
// Memory: 9 bytes per sample (UploadIndex), samples and records read in
// windows of at most kJournalWindow (one at a time per upload and import);
// during a poll of the whole dataset 4 bytes per waiting item, and 8 bytes
// per processed sample queued for import.
//
// Threading: Run is one coroutine on a (possibly multi-threaded) io_context;
// its concurrent steps share the job's state under its mutexes. The job
// lives for one Run call; `client`, `http`, `options` and `journal` must
// outlive it.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_JOB_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_JOB_H_

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/annotation_import.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/backend/darwin/grouped_saves.h"
#include "service/backend/darwin/upload_guard.h"
#include "service/backend/darwin/upload_index.h"
#include "service/http/http_client.h"

namespace labelport::backend::darwin {

class UploadJob {
 public:
  UploadJob(DarwinClient* client, http::HttpClient* http, const DarwinBackend::Options& options,
            UploadJournal& journal);
  UploadJob(const UploadJob&) = delete;
  UploadJob& operator=(const UploadJob&) = delete;

  // Runs the steps above to the end. OK when every sample has reached its
  // last step or failed (failures are in the journal); the fence's or the
  // store's status when that stopped the job; else the run-wide failure.
  boost::asio::awaitable<absl::Status> Run();

 private:
  using SampleProgress = labelport::internal::v1::SampleProgress;
  using SampleStep = labelport::internal::v1::SampleStep;

  // Samples [start, start + count) and their records (as Current; made up
  // for samples never saved).
  struct Window {
    int64_t start = 0;
    std::vector<labelport::v1::Sample> samples;
    std::vector<SampleProgress> records;  // one per sample
  };

  // ---- the index ----
  // A stored record as this job sees it (AsRetried with its indexed step).
  SampleProgress Current(SampleProgress p);

  // ---- journal reads and writes (durable, see UploadGuard) ----
  boost::asio::awaitable<absl::StatusOr<Window>> LoadWindow(int64_t start, int count);
  // The window of sample `i` alone; nullopt when the job stopped (before or
  // while reading it).
  boost::asio::awaitable<std::optional<Window>> LoadOne(int64_t i);
  boost::asio::awaitable<absl::StatusOr<std::vector<SampleProgress>>> FetchRecords(
      const std::vector<int64_t>& positions);
  boost::asio::awaitable<absl::Status> SaveRecords(std::vector<SampleProgress> records);
  boost::asio::awaitable<absl::Status> SaveAndIndex(std::vector<SampleProgress> records);
  // Fails a sample: records the failure (an error of the save stopped the
  // job: UploadGuard::StopStatus).
  boost::asio::awaitable<void> Fail(SampleProgress record, absl::string_view stage,
                                    absl::string_view message);
  // Runs `call`, one sample's V7 work, while this worker holds the lease
  // (UploadGuard::Fenced), again after a V7 outage (OutageTolerant). When it
  // fails for good the sample fails at `stage`. True when it succeeded; false
  // too when the job stopped.
  boost::asio::awaitable<bool> SampleV7Call(
      const SampleProgress& record, absl::string_view stage,
      std::function<boost::asio::awaitable<absl::Status>()> call);

  // ---- state ----
  boost::asio::awaitable<absl::Status> LoadState();
  boost::asio::awaitable<absl::Status> SaveState();

  // ---- 1. dataset ----
  boost::asio::awaitable<absl::Status> ResolveDataset();

  // ---- 2. registration ----
  boost::asio::awaitable<absl::Status> Register();
  boost::asio::awaitable<absl::Status> RegisterWindow(Window& w);
  // Fails the window's unregistered samples whose server path the tenant may
  // not read; returns the others (indices into the window).
  boost::asio::awaitable<std::vector<size_t>> RefuseForbiddenPaths(Window& w);
  // One registration call (E28 into `storage_slug` with `storage`, else
  // E23), fenced.
  boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> RegisterBatch(
      const std::vector<ItemRegistration>& items, bool storage, const std::string& storage_slug);
  boost::asio::awaitable<absl::Status> RefreshResumed();

  // ---- 3. upload ----
  boost::asio::awaitable<void> UploadAll();
  boost::asio::awaitable<void> UploadOne(int64_t i);

  // ---- 4. processing ----
  boost::asio::awaitable<absl::Status> WaitForProcessing();
  boost::asio::awaitable<absl::Status> PollByIds(size_t* changed);
  boost::asio::awaitable<absl::Status> PollDataset(size_t* changed);
  boost::asio::awaitable<absl::Status> ApplyPolled(const std::vector<SampleProgress>& records,
                                                   const std::vector<DarwinItem>& items,
                                                   size_t* changed);

  // ---- 5. classes and properties ----
  boost::asio::awaitable<absl::Status> EnsureClasses();
  boost::asio::awaitable<absl::StatusOr<int64_t>> EnsureClass(
      const ClassKey& key, const std::vector<DarwinClass>& classes);
  boost::asio::awaitable<absl::StatusOr<int64_t>> CreateClass(const ClassKey& key);
  boost::asio::awaitable<absl::Status> EnsureProperties();
  boost::asio::awaitable<absl::Status> EnsureProperty(int64_t class_id,
                                                      const labelport::v1::AttributeSpec& spec);

  // ---- 6. labels ----
  boost::asio::awaitable<absl::Status> ProcessAndImport();
  // Samples already PROCESSED without labels (a resumed run) are recorded
  // LABELS_IMPORTED; returns those with labels.
  boost::asio::awaitable<absl::StatusOr<std::vector<int64_t>>> SettleProcessed();
  boost::asio::awaitable<absl::Status> WaitThenCloseQueue();
  void QueueImports(const std::vector<int64_t>& positions);
  void CloseImportQueue();
  void Wake();
  boost::asio::awaitable<void> ImportWorkers();
  boost::asio::awaitable<void> ImportOne(int64_t i);

  DarwinClient* client_;
  http::HttpClient* http_;
  const DarwinBackend::Options& options_;
  UploadJournal& journal_;
  const labelport::v1::AnnotationRun& run_;

  // The lease fence, store and V7 outages, the job's stop status.
  UploadGuard guard_;
  // An upload's UPLOADED record and an import's LABELS_IMPORTED one.
  GroupedSaves grouped_saves_;
  UploadIndex index_;
  absl::Mutex mu_;
  // The classes the samples' labels use (read by LoadState).
  std::set<ClassKey> sample_classes_;
  std::atomic<bool> uploads_done_{false};
  // Processed samples with labels, waiting for an import worker.
  std::deque<int64_t> import_queue_ ABSL_GUARDED_BY(mu_);
  bool import_queue_closed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>>
      import_wake_;
  labelport::internal::v1::DarwinRunState state_;
  // Whether the run's dataset existed before the run (listed once).
  std::optional<bool> dataset_existed_;
  std::map<int64_t, std::vector<DarwinProperty>> class_properties_;
  ResolvedProperties properties_;
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_JOB_H_
