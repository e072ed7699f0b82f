// UploadIndex: the upload job's compact, in-memory view of a run — for each
// sample its step, two flags and a hash of its V7 item id (9 bytes per
// sample) — so that the job never holds the run's samples or records (it
// reads those from the journal when it needs them).
//
// Thread-safety: every method may be called from any thread (one mutex).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_INDEX_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/backend/darwin/darwin_types.h"

namespace labelport::backend::darwin {

// The hash of a V7 item id in the index (0: no item; never 0 otherwise).
uint64_t ItemHash(absl::string_view item_id);

// The step a record left by an earlier job is retried from: a FAILED record
// without an item is registered again, one that failed importing its labels
// is imported again, any other FAILED one is uploaded again. Other steps
// stand.
labelport::internal::v1::SampleStep RetryStepOf(const labelport::internal::v1::SampleProgress& p);

// A stored record as the job sees it, given the step the index holds for
// it: a FAILED record that this job retries (the index holds another step)
// reads as that step, with one more attempt and no error.
labelport::internal::v1::SampleProgress AsRetried(labelport::internal::v1::SampleProgress p,
                                                  labelport::internal::v1::SampleStep indexed);

class UploadIndex {
 public:
  // Flags beside the step.
  // Had a record when the job began (or V7 said its item existed already):
  // its last step may not have been recorded, the job re-reads it from V7.
  static constexpr uint8_t kResumed = 0x08;
  // The sample has labels to import.
  static constexpr uint8_t kHasLabels = 0x10;

  // Empties the index and reserves room for `samples` (sized once: a grown
  // vector could hold twice the bytes).
  void Reset(int64_t samples);
  // Appends the samples [start, start + has_labels.size()) (start must be
  // size()) with their flags, and what their stored `records` (of any
  // position; others are ignored) say: each recorded sample is kResumed, at
  // RetryStepOf its record.
  void AddWindow(int64_t start, const std::vector<bool>& has_labels,
                 const std::vector<labelport::internal::v1::SampleProgress>& records);

  int64_t size();
  labelport::internal::v1::SampleStep StepAt(int64_t i);
  bool HasLabelsAt(int64_t i);
  // Records what a saved record says (its step and item); flags stay.
  void Index(const labelport::internal::v1::SampleProgress& p);
  void SetFlag(int64_t i, uint8_t flag);
  void ClearFlagEverywhere(uint8_t flag);
  size_t CountAt(labelport::internal::v1::SampleStep step);
  // The positions in [from, to) at `step` that have every bit of `flags`,
  // ascending, at most `max`.
  std::vector<int64_t> PositionsAt(labelport::internal::v1::SampleStep step, int64_t from,
                                   int64_t to, size_t max, uint8_t flags = 0);
  // The first position at or after *cursor at `step` (moving the cursor
  // past it); nullopt when none is left.
  std::optional<int64_t> NextAt(labelport::internal::v1::SampleStep step, int64_t* cursor);

  // The positions at `step`, sorted by their items' hashes (4 bytes each).
  std::vector<uint32_t> PositionsByItemHash(labelport::internal::v1::SampleStep step);
  // Matches `items` with `by_hash` (from PositionsByItemHash) by the hash of
  // their ids: (position, index in items) pairs, sorted by position. A hash
  // collision can match a wrong position: callers compare the ids in the
  // records.
  std::vector<std::pair<int64_t, size_t>> MatchItems(const std::vector<uint32_t>& by_hash,
                                                     const std::vector<DarwinItem>& items);

 private:
  static constexpr uint8_t kStepMask = 0x07;
  static_assert(labelport::internal::v1::SampleStep_MAX <= kStepMask);

  absl::Mutex mu_;
  // By position: the step in the low bits, and flags.
  std::vector<uint8_t> index_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> item_hash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_INDEX_H_
