// AnnotationBackend: the port through which core runs a run's work in an
// annotation platform (V7 Darwin: DarwinBackend), and UploadJournal, the
// durable record-keeping core offers the backend while it works.
//
// Core knows no backend: what a backend supports comes from its
// Capabilities(), and what it keeps about a run (its backend state) is
// opaque to core and the store, a google.protobuf.Any whose type_url names
// the backend's own message.
#ifndef LABELPORT_SERVICE_BACKEND_ANNOTATION_BACKEND_H_
#define LABELPORT_SERVICE_BACKEND_ANNOTATION_BACKEND_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/annotation_service.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/backend_capabilities.h"

namespace labelport::backend {

// A registration made by UploadJournal::WatchLease; destroying it ends it.
class LeaseWatch {
 public:
  virtual ~LeaseWatch() = default;
};

// Everything a backend reads and records about one run while uploading it.
// Implemented by core over the RunStore. The store work of every awaitable
// method runs off the awaiting coroutine's thread (core runs it on its store
// pool), so an I/O thread never blocks on the store; the awaiting coroutine
// resumes on its own executor. Reads are bounded pages (at most `count`
// entries), so that a job walks a run of any size in constant memory.
// Every Save* is durable when it completes: after a crash, a resumed upload
// sees exactly what was saved. Thread-safety: every method may be called
// from several threads (coroutines) at once.
class UploadJournal {
 public:
  virtual ~UploadJournal() = default;

  // The run as it was when the job started (schema, options, uid).
  virtual const labelport::v1::AnnotationRun& run() const = 0;
  // Samples at positions [start, start + count), in upload order.
  virtual boost::asio::awaitable<absl::StatusOr<std::vector<labelport::v1::Sample>>> LoadSamples(
      int64_t start, int count) = 0;
  // The progress records saved so far at positions [start, start + count),
  // by position (untouched samples have none).
  virtual boost::asio::awaitable<
      absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>>>
  LoadProgress(int64_t start, int count) = 0;
  // Saves progress records and refreshes the run's progress counters and
  // per-sample errors from them.
  virtual boost::asio::awaitable<absl::Status> SaveProgress(
      std::vector<labelport::internal::v1::SampleProgress> progress) = 0;
  virtual boost::asio::awaitable<absl::Status> SaveLinks(
      std::vector<labelport::internal::v1::AnnotationLink> links) = 0;
  // The links of one V7 item (a load reads them item by item).
  virtual boost::asio::awaitable<
      absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>>
  LoadLinksForItem(std::string item_id) = 0;
  // The backend's own state of the run, opaque to core and the store: the
  // last one saved (type_url and value as given), or an empty Any (no
  // type_url) when none was. The backend checks the type_url and unpacks it.
  virtual boost::asio::awaitable<absl::StatusOr<google::protobuf::Any>> LoadBackendState() = 0;
  // Replaces the backend state. INVALID_ARGUMENT (field "state.type_url")
  // for an empty type_url.
  virtual boost::asio::awaitable<absl::Status> SaveBackendState(google::protobuf::Any state) = 0;
  // Records the URL where people annotate the run.
  virtual boost::asio::awaitable<absl::Status> SetEditorUrl(std::string url) = 0;
  // Blocking forms of LoadSamples and LoadLinksForItem, for a caller that
  // already runs off the I/O threads (a load decoding entries on the CPU
  // pool). Never call them from an I/O thread.
  virtual absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamplesBlocking(int64_t start,
                                                                                 int count) = 0;
  virtual absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>
  LoadLinksForItemBlocking(const std::string& item_id) = 0;
  // Whether this job may still write (the journal and V7): ABORTED once its
  // worker lost the run's lease or could not renew it in time (every Save*
  // then fails the same way). A backend checks it before each V7 write and
  // stops the job when it fails. Other errors of a Save* are the store's
  // (e.g. UNAVAILABLE while it is down): the write may be repeated. Never
  // blocks.
  virtual absl::Status CheckLease() { return absl::OkStatus(); }
  // Calls `on_closed` once with CheckLease's error when the lease fence
  // closes while a V7 call may be in flight (the worker found the lease
  // lost, or not renewed by the time it may expire), so that the backend
  // can abandon the call: at once, before returning, when it is closed
  // already; else from whichever thread closes it. `on_closed` must be
  // quick and must not call the journal (it posts work to where it
  // belongs). It is not called once the returned registration is
  // destroyed. Null (the default): this journal's lease never closes.
  virtual std::unique_ptr<LeaseWatch> WatchLease(
      const std::function<void(const absl::Status&)>& /*on_closed*/) {
    return nullptr;
  }
};

// The labels of one sample as the annotation platform has them now, per
// schema field, with stable ids: labels uploaded by the run keep the client's
// id (and the attributes, tags and confidence V7 does not carry, restored
// from the snapshot); new ones get an id derived from the platform's own.
// Labels of other types than a frame-level field's, on one frame.
struct LoadedFrameUnexpected {
  int32_t frame_number = 0;
  std::string frame_id;  // from the snapshot, when the frame had labels
  labelport::v1::UnexpectedLabels labels;
};

struct LoadedField {
  std::string field;
  // Sample-level fields: the labels.
  labelport::v1::FieldValue downloaded;
  // Frame-level fields: the labels per frame (1-based numbers, ascending;
  // only frames with labels; frame ids echoed from the snapshot). Each V7
  // annotation is one track: its labels carry its `index` (an uploaded
  // track's instance id in V7, else its uploaded index; other annotations get
  // indexes above every known one) and `keyframe`; the merge applies
  // FiftyOne's track rule.
  std::vector<labelport::v1::FrameFieldValue> frames;
  // Labels of other types than the field's, grouped by return type
  // (frame-level fields: per frame, in frame_unexpected).
  std::vector<labelport::v1::UnexpectedLabels> unexpected;
  std::vector<LoadedFrameUnexpected> frame_unexpected;
};

struct LoadedSample {
  std::string sample_id;
  // 0-based position of the sample in the run.
  int64_t position = 0;
  // One entry per schema field, in schema order (empty values included).
  std::vector<LoadedField> fields;
  // The sample as stored when its labels were decoded (read once per item
  // by the backend; the merge's baseline).
  labelport::v1::Sample stored;
};

// Receives a load as it streams in. Returning an error aborts the load.
// OnProgress and OnSample may take their time (that is how a slow client
// slows the load down: memory stays bounded) but never block a thread: they
// are awaited. They are called from one coroutine at a time.
class LoadSink {
 public:
  virtual ~LoadSink() = default;
  virtual boost::asio::awaitable<absl::Status> OnProgress(labelport::v1::LoadProgress progress) = 0;
  virtual boost::asio::awaitable<absl::Status> OnSample(LoadedSample sample) = 0;
  virtual void OnSkipped(labelport::v1::SkippedEntry skipped) = 0;
};

class AnnotationBackend {
 public:
  virtual ~AnnotationBackend() = default;

  // What this backend supports (its name, label and attribute types). Fixed
  // for the backend's lifetime; the same as its BackendProvider's
  // Capabilities(). Thread-safe.
  virtual const BackendCapabilities& Capabilities() const = 0;

  // Brings every sample of the run to SAMPLE_STEP_LABELS_IMPORTED or
  // SAMPLE_STEP_FAILED, resuming from what the journal holds; safe to call
  // again after a crash or a failure (no duplicate items, classes or
  // annotations). Per-sample failures are recorded in the journal, not
  // returned. Returns an error only when the run as a whole cannot proceed
  // (credentials, dataset, classes, timeouts); the run can be resumed later.
  virtual boost::asio::awaitable<absl::Status> UploadRun(UploadJournal& journal) = 0;

  // Exports the run's items (only those) and streams every sample whose item
  // was exported to `sink`, one item at a time (memory does not grow with the
  // number of items). The run, its journal and V7's data are not changed;
  // the export is deleted afterwards. Errors name the stage (export, wait,
  // download, item) and leave everything as it was, so a load can be retried.
  // A cancellation of the awaiting coroutine (Asio terminal cancellation)
  // stops the V7 work; the export it created is still deleted (not
  // cancellable, bounded in time) and the call returns CANCELLED.
  virtual boost::asio::awaitable<absl::Status> LoadRun(UploadJournal& journal, LoadSink& sink) = 0;

  // Workflow status counts of the run's items only, sorted by status.
  virtual boost::asio::awaitable<absl::StatusOr<labelport::v1::GetRunStatusResponse>> GetStatus(
      UploadJournal& journal) = 0;

  // Removes what the run created: the dataset (its workflow detached and
  // deleted first, then the dataset archived) when the run created it,
  // otherwise only the run's items. Safe to call again.
  virtual boost::asio::awaitable<absl::StatusOr<labelport::v1::CleanupRunResponse>> Cleanup(
      UploadJournal& journal) = 0;
};

}  // namespace labelport::backend

#endif  // LABELPORT_SERVICE_BACKEND_ANNOTATION_BACKEND_H_
