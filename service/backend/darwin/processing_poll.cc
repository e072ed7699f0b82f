#include "service/backend/darwin/processing_poll.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace labelport::backend::darwin {

using labelport::internal::v1::SampleProgress;

bool ShouldPollNow(bool uploading, size_t waiting, absl::Duration since_last_poll,
                   absl::Duration poll_max) {
  if (!uploading) return true;
  return waiting != 0 && (waiting >= kPollBatchWhileUploading || since_last_poll >= poll_max);
}

bool ProcessingTimedOut(absl::Time next_poll, absl::Time deadline,
                        absl::Duration down_since_deadline) {
  return next_poll > deadline + down_since_deadline;
}

absl::Status ProcessingTimeout(size_t waiting, absl::Duration timeout,
                               const absl::Status& last_poll_error) {
  return absl::DeadlineExceededError(absl::StrCat(
      absl::StrFormat("%d V7 items did not finish processing within %s", waiting,
                      absl::FormatDuration(timeout)),
      last_poll_error.ok() ? "" : absl::StrCat(" (last poll: ", last_poll_error.message(), ")")));
}

bool IsProcessedStatus(absl::string_view status) {
  return status == "new" || status == "annotate" || status == "review" || status == "complete" ||
         status == "archived";
}

bool IsErrorStatus(absl::string_view status) {
  return status == "error" || status == "errored" || status == "failed";
}

PolledItem Classify(const DarwinItem& item) {
  if (IsErrorStatus(item.status) || IsErrorStatus(item.processing_status))
    return PolledItem::kFailed;
  if (!IsProcessedStatus(item.status) || item.processing_status == "processing")
    return PolledItem::kWaiting;
  return PolledItem::kProcessed;
}

std::string ProcessingFailure(const DarwinItem& item) {
  return absl::StrCat("V7 could not process the media of item '", item.name, "' (status ",
                      item.status, ")");
}

SampleProgress ProcessedRecord(SampleProgress p, const DarwinItem& item, bool has_labels) {
  if (!item.slots.empty()) {
    p.set_width(static_cast<int32_t>(item.slots[0].width));
    p.set_height(static_cast<int32_t>(item.slots[0].height));
    p.set_fps(item.slots[0].fps);
    p.set_frame_count(static_cast<int32_t>(item.slots[0].frame_count));
  }
  p.set_step(has_labels ? labelport::internal::v1::SAMPLE_STEP_PROCESSED
                        : labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
  return p;
}

}  // namespace labelport::backend::darwin
