// The load of a run from V7 (DarwinBackend::LoadRun): export only the run's
// items → poll until the export is ready (backoff, export_timeout) →
// download it to a temporary file under Options::temp_dir (without
// Authorization) → one zip entry at a time: decode, map to the sample
// through the stored item id, convert with the stored annotation links →
// sink. The export is deleted afterwards, whatever happened.
//
// Errors: FAILED_PRECONDITION when the run has no dataset or no items in V7
// yet; a V7 step's error prefixed with the step; an unreadable download
// (corrupt or cut) is UNAVAILABLE (a retry downloads a fresh export);
// errors of the sink are returned as they are.
//
// Threading and cancellation: zip reading, parsing and conversion run on
// Options::cpu_pool (inline without one), never on the I/O thread; results
// reach the sink in entry order on the calling coroutine. A cancelled load
// (the calling coroutine cancelled, or the sink answering CANCELLED) stops
// at its next V7 step and deletes its export within export_cleanup_timeout
// (else leaves it to V7, which expires exports), then returns CANCELLED.
// `client`, `options`, `journal` and `sink` must outlive the returned
// coroutine.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_LOAD_JOB_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_LOAD_JOB_H_

#include <boost/asio/awaitable.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_client.h"

namespace labelport::backend::darwin {

boost::asio::awaitable<absl::Status> RunLoadJob(DarwinClient* client,
                                                const DarwinBackend::Options& options,
                                                UploadJournal& journal, LoadSink& sink);

// A name for a new export of the run `uid`, unique within its dataset (V7
// refuses a duplicate with 422): "labelport-<uid prefix>-<unix ms>-<random
// hex>" — concurrent loads of one run, on one replica or several, start in
// the same millisecond, so the time is not enough.
std::string ExportName(absl::string_view uid);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_LOAD_JOB_H_
