// DarwinBackend: the AnnotationBackend for V7 Darwin. Runs the upload
// pipeline of a run (spec: darwin-api Appendix A/C, annotation-semantics §5.4
// with the [fix] items):
//
//   1. team and dataset: get or create the dataset by slug (recorded, with
//      whether this run created it);
//   2. register items in batches (E23 up to 500 per call; E28 for external
//      storage). Items are named after the media file and placed in the
//      folder "/<run uid prefix>/<sample id>", so two samples with the same
//      file name never collide and runs never share items. A server path
//      the tenant may not read fails its sample first: V7 never gets an
//      item for it;
//   3. upload bytes: sign → PUT → confirm, bounded concurrency;
//   4. wait for V7's processing (polling with backoff; the timeout counts
//      from the end of the uploads);
//   5. classes and properties, each (name, type) created or attached once;
//   6. import each sample's existing labels (E35, overwrite, deterministic
//      annotation ids), recording an AnnotationLink per annotation first.
// Steps 3-6 overlap: the processing wait runs while uploads continue, and a
// sample's labels are imported (by `import_concurrency` workers) as soon as
// its item is processed and the classes exist, not after every item is.
// Every step is recorded per sample in the journal before the next starts;
// a resumed run re-checks V7 for items whose state it could not record.
// V7 calls are retried by DarwinClient alone (the one retry layer, see
// darwin_client.h): a per-sample call that exhausts its retries fails that
// sample (reported, retried by a resume); a run-wide one (dataset,
// registration batch, classes, export) fails the run. A poll (processing
// wait, export readiness) that fails with UNAVAILABLE or DEADLINE_EXCEEDED
// is repeated until the wait's own timeout.
// A V7 outage does not fail samples or the run: the job waits until V7
// answers again and repeats the step that failed (V7OutageWait).
// Fencing: every V7 write starts only while the journal's CheckLease is OK,
// and is abandoned (cancelled where it runs) when the journal reports the
// lease fence closed while it is in flight (WatchLease); the job then stops
// at its next step and returns the fence's ABORTED.
// Memory: the job does not hold the run. It keeps 9 bytes per sample (its
// step and flags, a hash of its V7 item id) and reads samples and progress
// records from the journal in windows of at most 2,000 (one at a time per
// upload and import); the processing wait lists the dataset page by page.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/darwin/darwin_capabilities.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/backend/darwin/media_url_fetch.h"
#include "service/common/cpu_pool.h"
#include "service/common/media_path_opener.h"
#include "service/http/http_client.h"

namespace labelport::backend::darwin {

class DarwinBackend : public AnnotationBackend {
 public:
  struct Options {
    // Where `content_digest` media live: <media_dir>/sha256/<hex>.
    std::string media_dir;
    // Which server paths the tenant's media references may name (roots from
    // the tenant's account, the server's protected files).
    common::MediaPathPolicy media_paths;
    // Scratch space for media fetched from URLs and for export downloads
    // (streamed to disk; the server uses <data_dir>/tmp/<worker>).
    std::string temp_dir = "/tmp";
    int register_batch_size = 500;
    int upload_concurrency = 16;
    // Label imports in flight per run (--import_concurrency).
    int import_concurrency = 8;
    absl::Duration processing_timeout = absl::Minutes(30);
    absl::Duration poll_initial = absl::Milliseconds(100);
    absl::Duration poll_max = absl::Seconds(5);
    // A media URL fetch, redirects included, from first byte sent to last
    // byte received; each read waits at most media_fetch.stall_timeout, and
    // a file is at most media_fetch.max_bytes.
    absl::Duration media_fetch_timeout = absl::Minutes(10);
    MediaFetchLimits media_fetch;
    // A V7 outage during an upload (V7OutageWait): the job pauses and
    // checks V7 with backoff (initial, doubling up to max) until it answers,
    // for at most `outage_max_wait` (--darwin_outage_wait_seconds; zero: a
    // failed call stands at once). The processing timeout is extended by the
    // time V7 was down.
    absl::Duration outage_max_wait = absl::Hours(6);
    absl::Duration outage_initial_backoff = absl::Seconds(1);
    absl::Duration outage_max_backoff = absl::Seconds(30);
    absl::Duration export_timeout = absl::Minutes(30);
    absl::Duration download_timeout = absl::Minutes(30);
    // A cancelled load deletes its export within this time (else leaves
    // it to V7, which expires exports).
    absl::Duration export_cleanup_timeout = absl::Seconds(30);
    // The server's one CPU pool: a load's zip reading, parsing and
    // conversion run there, never on an I/O thread (null: inline, for
    // tests). Must outlive the backend.
    common::CpuPool* cpu_pool = nullptr;
  };

  // `client` and `media_http` must outlive the backend. `media_http` fetches
  // media URLs only: the server gives it the media stack (egress policy, no
  // V7 rate limiter), never the V7 one.
  DarwinBackend(DarwinClient* client, http::HttpClient* media_http, Options options);

  // DarwinCapabilities().
  const BackendCapabilities& Capabilities() const override { return DarwinCapabilities(); }

  boost::asio::awaitable<absl::Status> UploadRun(UploadJournal& journal) override;
  // Export (only the run's items) → poll until ready (backoff, timeout) →
  // download to a temporary file without Authorization → one zip entry at a
  // time: decode, map to the sample through the stored item id, convert with
  // the stored annotation links → sink. The export is deleted afterwards.
  // Zip reading, parsing and conversion run on Options::cpu_pool; results
  // reach the sink in entry order on the calling coroutine. A cancelled
  // load stops at its next V7 step and deletes its export (within
  // export_cleanup_timeout), then returns CANCELLED.
  boost::asio::awaitable<absl::Status> LoadRun(UploadJournal& journal, LoadSink& sink) override;
  boost::asio::awaitable<absl::StatusOr<labelport::v1::GetRunStatusResponse>> GetStatus(
      UploadJournal& journal) override;
  boost::asio::awaitable<absl::StatusOr<labelport::v1::CleanupRunResponse>> Cleanup(
      UploadJournal& journal) override;

 private:
  DarwinClient* client_;
  http::HttpClient* http_;
  Options options_;
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_H_
