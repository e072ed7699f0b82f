// The processing wait of the upload job, its pure part: when to ask V7
// about uploaded items, how, and what its answer for one item means.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_PROCESSING_POLL_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_PROCESSING_POLL_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/backend/darwin/darwin_types.h"

namespace labelport::backend::darwin {

// While uploads are still running, V7 is asked about processing only once
// this many uploaded items wait (or poll_max has passed since the last ask),
// so the overlap with the uploads costs few calls.
inline constexpr size_t kPollBatchWhileUploading = 100;
// Up to this many waiting items are asked for by id; more: the dataset is
// listed (fewer calls), a page at a time.
inline constexpr size_t kPollByIdsMax = 200;

// Whether the wait polls V7 now (else it pauses for poll_initial): always
// once the uploads have ended; while they run, only when some item waits
// and either kPollBatchWhileUploading do or `poll_max` has passed since the
// last poll.
bool ShouldPollNow(bool uploading, size_t waiting, absl::Duration since_last_poll,
                   absl::Duration poll_max);

// Whether the wait gives up when its next poll would come at `next_poll`:
// past `deadline` (set when the uploads ended) extended by the time V7 was
// down since (`down_since_deadline`).
bool ProcessingTimedOut(absl::Time next_poll, absl::Time deadline,
                        absl::Duration down_since_deadline);

// The wait's DEADLINE_EXCEEDED: how many items did not finish within
// `timeout`, and the last failed poll's error if one failed.
absl::Status ProcessingTimeout(size_t waiting, absl::Duration timeout,
                               const absl::Status& last_poll_error);

// V7 item statuses that mean the item is processed (its media readable).
bool IsProcessedStatus(absl::string_view status);
// V7 item statuses that mean processing failed.
bool IsErrorStatus(absl::string_view status);

// What V7's answer for an uploaded item means.
enum class PolledItem {
  kWaiting,    // still processing
  kFailed,     // V7 could not process the media: the sample fails
  kProcessed,  // processed: ProcessedRecord
};
PolledItem Classify(const DarwinItem& item);

// The error of a sample whose item Classify calls kFailed.
std::string ProcessingFailure(const DarwinItem& item);

// The record `p` of a sample whose item is processed: the media's size,
// frame rate and frame count as V7 measured them (first slot), and the step
// PROCESSED (its labels are imported next) or, without labels, the last
// step LABELS_IMPORTED.
labelport::internal::v1::SampleProgress ProcessedRecord(labelport::internal::v1::SampleProgress p,
                                                        const DarwinItem& item, bool has_labels);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_PROCESSING_POLL_H_
