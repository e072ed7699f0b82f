#include "service/backend/darwin/darwin_backend.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "service/backend/darwin/darwin_run_state.h"
#include "service/backend/darwin/journal_pages.h"
#include "service/backend/darwin/load_job.h"
#include "service/backend/darwin/upload_job.h"

namespace labelport::backend::darwin {

namespace v1 = labelport::v1;

DarwinBackend::DarwinBackend(DarwinClient* client, http::HttpClient* http, Options options)
    : client_(client), http_(http), options_(std::move(options)) {}

boost::asio::awaitable<absl::Status> DarwinBackend::UploadRun(UploadJournal& journal) {
  UploadJob job(client_, http_, options_, journal);
  co_return co_await job.Run();
}

boost::asio::awaitable<absl::Status> DarwinBackend::LoadRun(UploadJournal& journal,
                                                            LoadSink& sink) {
  co_return co_await RunLoadJob(client_, options_, journal, sink);
}

boost::asio::awaitable<absl::StatusOr<v1::GetRunStatusResponse>> DarwinBackend::GetStatus(
    UploadJournal& journal) {
  auto state = co_await LoadDarwinRunState(journal);
  if (!state.ok()) co_return state.status();
  v1::GetRunStatusResponse response;
  if (state->dataset_id() == 0) co_return response;
  std::map<std::string, int64_t> counts;
  int64_t total = 0;
  absl::Status s = co_await ForEachItemIdChunk(
      journal, [&](std::vector<std::string> ids) -> boost::asio::awaitable<absl::Status> {
        auto items = co_await client_->ListItems(state->dataset_id(), std::move(ids));
        if (!items.ok()) co_return items.status();
        for (const auto& item : *items) ++counts[item.status];
        total += static_cast<int64_t>(items->size());
        co_return absl::OkStatus();
      });
  if (!s.ok()) co_return s;
  for (const auto& [status, count] : counts) {
    auto* c = response.add_counts();
    c->set_status(status);
    c->set_item_count(count);
  }
  response.set_total_items(total);
  co_return response;
}

boost::asio::awaitable<absl::StatusOr<v1::CleanupRunResponse>> DarwinBackend::Cleanup(
    UploadJournal& journal) {
  auto state = co_await LoadDarwinRunState(journal);
  if (!state.ok()) co_return state.status();
  v1::CleanupRunResponse response;
  if (state->dataset_id() == 0) co_return response;  // nothing reached V7
  if (state->dataset_created()) {
    auto workflows = co_await client_->ListWorkflows();
    if (!workflows.ok()) co_return workflows.status();
    for (const auto& w : *workflows) {
      if (!w.dataset_id || *w.dataset_id != state->dataset_id()) continue;
      absl::Status s = co_await client_->UnlinkWorkflowDataset(w.id);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
      s = co_await client_->DeleteWorkflow(w.id);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
    }
    absl::Status s = co_await client_->ArchiveDataset(state->dataset_id());
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
    response.set_dataset_deleted(true);
    co_return response;
  }
  // Only items that still exist count (a second cleanup deletes nothing).
  int64_t deleted = 0;
  absl::Status s = co_await ForEachItemIdChunk(
      journal, [&](std::vector<std::string> ids) -> boost::asio::awaitable<absl::Status> {
        auto items = co_await client_->ListItems(state->dataset_id(), std::move(ids));
        if (!items.ok()) co_return items.status();
        std::vector<std::string> existing;
        for (const auto& item : *items) existing.push_back(item.id);
        if (existing.empty()) co_return absl::OkStatus();
        absl::Status removed = co_await client_->DeleteItems(state->dataset_id(), existing);
        if (!removed.ok()) co_return removed;
        deleted += static_cast<int64_t>(existing.size());
        co_return absl::OkStatus();
      });
  if (!s.ok()) co_return s;
  response.set_items_deleted(deleted);
  co_return response;
}

}  // namespace labelport::backend::darwin
