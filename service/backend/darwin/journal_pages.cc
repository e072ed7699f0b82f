#include "service/backend/darwin/journal_pages.h"

#include <utility>

namespace labelport::backend::darwin {

using labelport::internal::v1::SampleProgress;

boost::asio::awaitable<absl::Status> ForEachProgressPage(
    UploadJournal& journal, std::function<absl::Status(const std::vector<SampleProgress>&)> each) {
  const int64_t samples = journal.run().progress().samples_total();
  for (int64_t start = 0;; start += kJournalWindow) {
    auto page = co_await journal.LoadProgress(start, kJournalWindow);
    if (!page.ok()) co_return page.status();
    if (page->empty() && start >= samples) co_return absl::OkStatus();
    absl::Status s = each(*page);
    if (!s.ok()) co_return s;
  }
}

boost::asio::awaitable<absl::Status> ForEachItemIdChunk(
    UploadJournal& journal,
    std::function<boost::asio::awaitable<absl::Status>(std::vector<std::string>)> each) {
  const int64_t samples = journal.run().progress().samples_total();
  for (int64_t start = 0;; start += kJournalWindow) {
    auto page = co_await journal.LoadProgress(start, kJournalWindow);
    if (!page.ok()) co_return page.status();
    if (page->empty() && start >= samples) co_return absl::OkStatus();
    std::vector<std::string> ids;
    for (const auto& p : *page)
      if (!p.item_id().empty()) ids.push_back(p.item_id());
    if (ids.empty()) continue;
    absl::Status s = co_await each(std::move(ids));
    if (!s.ok()) co_return s;
  }
}

std::vector<PositionRange> RangesOf(const std::vector<int64_t>& positions, int64_t max_gap,
                                    int64_t max_span) {
  std::vector<PositionRange> out;
  size_t k = 0;
  while (k < positions.size()) {
    const int64_t start = positions[k];
    size_t last = k;
    while (last + 1 < positions.size() && positions[last + 1] - positions[last] <= max_gap &&
           positions[last + 1] - start < max_span)
      ++last;
    out.push_back({.start = start,
                   .count = static_cast<int>(positions[last] - start + 1),
                   .first = k,
                   .end = last + 1});
    k = last + 1;
  }
  return out;
}

}  // namespace labelport::backend::darwin
