// Reading a run's journal in bounded pages: the upload, load, status and
// clean-up steps never hold a whole run's samples or progress records.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_JOURNAL_PAGES_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_JOURNAL_PAGES_H_

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "service/backend/annotation_backend.h"

namespace labelport::backend::darwin {

// How much of a run a step reads from the journal at once (samples and
// their progress records; a multiple of the registration batch).
inline constexpr int kJournalWindow = 2000;

// Calls `each` with every page of the run's progress records (at most
// kJournalWindow records each), in position order; stops at its first error
// (the journal's or `each`'s).
boost::asio::awaitable<absl::Status> ForEachProgressPage(
    UploadJournal& journal,
    std::function<absl::Status(const std::vector<labelport::internal::v1::SampleProgress>&)> each);

// Calls `each` with the ids of the run's V7 items, at most kJournalWindow at
// a time (memory does not grow with the run); pages without items are
// skipped. Stops at the first error.
boost::asio::awaitable<absl::Status> ForEachItemIdChunk(
    UploadJournal& journal,
    std::function<boost::asio::awaitable<absl::Status>(std::vector<std::string>)> each);

// One range read of progress records: positions[first, end) all lie in
// [start, start + count).
struct PositionRange {
  int64_t start = 0;
  int count = 0;
  size_t first = 0;
  size_t end = 0;
};

// Splits ascending `positions` into range reads: one per run of positions no
// further than `max_gap` apart and spanning less than `max_span` (scattered
// positions: a read each, never a whole window for one record).
std::vector<PositionRange> RangesOf(const std::vector<int64_t>& positions, int64_t max_gap,
                                    int64_t max_span);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_JOURNAL_PAGES_H_
