// Item listing and item mutations (E21, E22, E30-E34).
#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

bool In(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::vector<int64_t> ParseIds(const std::vector<std::string>& values) {
  std::vector<int64_t> out;
  for (const std::string& v : values) {
    int64_t id = 0;
    if (absl::SimpleAtoi(v, &id)) out.push_back(id);
  }
  return out;
}

// Items of the team selected by a mutation body's `filters`.
std::vector<Item*> ItemsForFilters(ApiContext& ctx, const json::object& body)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(ctx.store.mu()) {
  const json::object filters = GetObject(body, "filters");
  std::vector<std::string> item_ids;
  for (const json::value& v : GetArray(filters, "item_ids")) {
    if (v.is_string()) item_ids.emplace_back(v.as_string());
  }
  std::vector<int64_t> dataset_ids;
  for (const json::value& v : GetArray(filters, "dataset_ids")) {
    if (std::optional<int64_t> id = AsInt(v)) dataset_ids.push_back(*id);
  }
  std::vector<Item*> out;
  for (auto& [seq, item] : ctx.store.state().items) {
    if (item.team_id != ctx.team_id) continue;
    if (!dataset_ids.empty() &&
        std::find(dataset_ids.begin(), dataset_ids.end(), item.dataset_id) == dataset_ids.end()) {
      continue;
    }
    if (filters.contains("item_ids") && !In(item_ids, item.id)) continue;
    out.push_back(&item);
  }
  return out;
}

SimResponse SetArchived(ApiContext& ctx, bool archived) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  json::array ids;
  for (Item* item : ItemsForFilters(ctx, *body)) {
    item->archived = archived;
    item->updated_at = NowTimestamp();
    ids.emplace_back(item->id);
  }
  return JsonResponse(200, json::object{{"affected_item_ids", std::move(ids)}});
}

}  // namespace

SimResponse HandleListItems(ApiContext& ctx) {
  const QueryParams& q = ctx.req.query;
  const std::vector<int64_t> dataset_ids = ParseIds(q.GetAll("dataset_ids"));
  const std::vector<std::string> names = q.GetAll("item_names");
  const std::vector<std::string> ids = q.GetAll("item_ids");
  const std::vector<std::string> statuses = q.GetAll("statuses");
  const std::vector<std::string> paths = q.GetAll("item_paths");
  const std::vector<std::string> slot_types = q.GetAll("slot_types");
  const bool workflow_data = q.GetBool("include_workflow_data", false);
  int64_t page_size = ctx.store.config().default_page_size.load();
  if (std::optional<std::string> s = q.Get("page[size]")) {
    int64_t v = 0;
    if (absl::SimpleAtoi(*s, &v) && v > 0) page_size = v;
  }
  const std::string from = q.Get("page[from]").value_or("");

  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  // Candidates in insertion order: the named datasets' items, or all items.
  const State& state = ctx.store.state();
  std::vector<uint64_t> seqs;
  if (dataset_ids.empty()) {
    for (const auto& [seq, item] : state.items) seqs.push_back(seq);
  } else {
    for (int64_t id : dataset_ids) {
      auto ds = state.datasets.find(id);
      if (ds == state.datasets.end()) continue;
      seqs.insert(seqs.end(), ds->second.item_seqs.begin(), ds->second.item_seqs.end());
    }
    std::sort(seqs.begin(), seqs.end());
    seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  }
  std::vector<const Item*> matched;
  for (uint64_t seq : seqs) {
    auto found = state.items.find(seq);
    if (found == state.items.end()) continue;
    const Item& item = found->second;
    if (item.team_id != ctx.team_id) continue;
    if (!dataset_ids.empty() &&
        std::find(dataset_ids.begin(), dataset_ids.end(), item.dataset_id) == dataset_ids.end()) {
      continue;
    }
    auto ds = ctx.store.state().datasets.find(item.dataset_id);
    if (ds != ctx.store.state().datasets.end() && ds->second.archived) continue;
    const std::string status = item.archived ? "archived" : item.status;
    if (item.archived && !In(statuses, "archived")) continue;
    if (!statuses.empty() && !In(statuses, status)) continue;
    if (!names.empty() && !In(names, item.name)) continue;
    if (!ids.empty() && !In(ids, item.id)) continue;
    if (!paths.empty() && !In(paths, item.path)) continue;
    if (!slot_types.empty() &&
        std::none_of(item.slots.begin(), item.slots.end(),
                     [&](const Slot& s) { return In(slot_types, s.type); })) {
      continue;
    }
    matched.push_back(&item);
  }
  size_t start = 0;
  if (!from.empty()) {
    start = matched.size();
    for (size_t i = 0; i < matched.size(); ++i) {
      if (matched[i]->id == from) start = i;
    }
  }
  const size_t end = std::min(matched.size(), start + static_cast<size_t>(page_size));
  json::array items;
  for (size_t i = start; i < end; ++i) {
    items.push_back(ItemJson(ctx.store.state(), *matched[i], workflow_data));
  }
  json::object page;
  page["count"] = static_cast<int64_t>(end - start);
  page["next"] = end < matched.size() ? json::value(matched[end]->id) : json::value(nullptr);
  page["previous"] =
      start > 0
          ? json::value(matched[start > static_cast<size_t>(page_size) ? start - page_size : 0]->id)
          : json::value(nullptr);
  json::object body;
  body["items"] = std::move(items);
  body["page"] = std::move(page);
  return JsonResponse(200, body);
}

SimResponse HandleStatusCounts(ApiContext& ctx) {
  const std::vector<int64_t> dataset_ids = ParseIds(ctx.req.query.GetAll("dataset_ids"));
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  std::map<std::string, int64_t> counts;
  for (const auto& [seq, item] : ctx.store.state().items) {
    if (item.team_id != ctx.team_id) continue;
    if (!dataset_ids.empty() &&
        std::find(dataset_ids.begin(), dataset_ids.end(), item.dataset_id) == dataset_ids.end()) {
      continue;
    }
    ++counts[item.archived ? "archived" : item.status];
  }
  json::array simple;
  for (const auto& [status, count] : counts) {
    simple.push_back(json::object{{"status", status}, {"item_count", count}});
  }
  return JsonResponse(200, json::object{{"simple_counts", std::move(simple)}});
}

SimResponse HandleArchiveItems(ApiContext& ctx) { return SetArchived(ctx, true); }
SimResponse HandleRestoreItems(ApiContext& ctx) { return SetArchived(ctx, false); }

SimResponse HandleDeleteItems(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  State& state = ctx.store.state();
  json::array deleted;
  for (Item* item : ItemsForFilters(ctx, *body)) {
    const uint64_t seq = item->seq;
    deleted.emplace_back(item->id);
    auto ds = state.datasets.find(item->dataset_id);
    if (ds != state.datasets.end()) std::erase(ds->second.item_seqs, seq);
    state.item_by_id.erase(item->id);
    state.item_by_key.erase({item->dataset_id, item->path, item->name});
    state.items.erase(seq);
  }
  return JsonResponse(200, json::object{{"affected_item_ids", std::move(deleted)}});
}

SimResponse HandleMoveToStage(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  const std::string stage_id = GetString(*body, "stage_id");
  const std::string workflow_id = GetString(*body, "workflow_id");
  absl::MutexLock lock(&ctx.store.mu());
  Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, workflow_id);
  if (wf == nullptr) return ErrorResponse(404, "workflow not found");
  const WorkflowStage* stage = nullptr;
  for (const WorkflowStage& s : wf->stages) {
    if (s.id == stage_id) stage = &s;
  }
  if (stage == nullptr) return ErrorResponse(422, "unknown stage_id");
  const std::string status = stage->type == "dataset" ? "new" : stage->type;
  json::array ids;
  for (Item* item : ItemsForFilters(ctx, *body)) {
    item->status = status;
    item->workflow_stage_id = stage->id;
    item->updated_at = NowTimestamp();
    ids.emplace_back(item->id);
  }
  return JsonResponse(200, json::object{{"affected_item_ids", std::move(ids)}});
}

SimResponse HandleCommentThreads(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = ctx.store.ItemLocked(ctx.params[1]);
  if (item == nullptr || item->team_id != ctx.team_id) {
    return ErrorResponse(404, "item not found");
  }
  json::object out;
  out["id"] = NewUuid();
  out["item_id"] = item->id;
  return JsonResponse(200, out);
}

}  // namespace labelport::darwin_sim
