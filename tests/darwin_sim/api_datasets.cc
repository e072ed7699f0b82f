// Teams, datasets, annotation types and workflows (E1-E10, E41-E45).
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "json_util.h"
#include "request_body.h"

namespace labelport::darwin_sim {
namespace {

Dataset* DatasetParam(ApiContext& ctx, size_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ctx.store.mu()) {
  int64_t id = 0;
  if (index >= ctx.params.size() || !absl::SimpleAtoi(ctx.params[index], &id)) return nullptr;
  return ctx.store.DatasetLocked(ctx.team_id, id);
}

}  // namespace

SimResponse HandleTokenInfo(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  const Team& team = ctx.store.state().teams.at(ctx.team_id);
  json::object t;
  t["id"] = team.id;
  t["name"] = team.name;
  t["slug"] = team.slug;
  json::object user;
  user["id"] = 1;
  user["email"] = "api@darwin-sim.local";
  json::object body;
  body["selected_team"] = std::move(t);
  body["user"] = std::move(user);
  return JsonResponse(200, body);
}

SimResponse HandleFeatures(ApiContext&) { return JsonResponse(200, json::array()); }

SimResponse HandleStorage(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  json::array out;
  for (const auto& [key, dir] : ctx.store.state().storage) {
    if (key.first != ctx.team_id) continue;
    json::object s;
    s["name"] = key.second;
    s["prefix"] = "";
    s["readonly"] = false;
    s["provider"] = "aws";
    s["default"] = out.empty();
    s["bucket"] = "darwin-sim";
    s["region"] = "local";
    out.push_back(std::move(s));
  }
  return JsonResponse(200, out);
}

SimResponse HandleListDatasets(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  const std::optional<std::string> id_filter = ctx.req.query.Get("id");
  json::array out;
  for (const auto& [id, ds] : ctx.store.state().datasets) {
    if (ds.team_id != ctx.team_id || ds.archived) continue;
    if (id_filter.has_value() && std::to_string(id) != *id_filter) continue;
    out.push_back(DatasetJson(ctx.store.state(), ds));
  }
  return JsonResponse(200, out);
}

SimResponse HandleCreateDataset(ApiContext& ctx) {
  json::object body;
  std::string name;
  if (auto refused = ParseBodyNaming(ctx.req.body, "name", &body, &name)) return *refused;
  absl::MutexLock lock(&ctx.store.mu());
  const Team& team = ctx.store.state().teams.at(ctx.team_id);
  absl::StatusOr<Dataset*> ds = ctx.store.CreateDatasetLocked(team, name);
  if (absl::IsAlreadyExists(ds.status())) return NameTakenResponse();
  if (!ds.ok()) return ErrorResponse(422, ds.status().message());
  return JsonResponse(200, DatasetJson(ctx.store.state(), **ds));
}

SimResponse HandleGetDataset(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Dataset* ds = DatasetParam(ctx, 0);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  return JsonResponse(200, DatasetJson(ctx.store.state(), *ds));
}

SimResponse HandleArchiveDataset(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Dataset* ds = DatasetParam(ctx, 0);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  ds->archived = true;
  return JsonResponse(200, DatasetJson(ctx.store.state(), *ds));
}

SimResponse HandleDatasetBySlug(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  const Team& team = ctx.store.state().teams.at(ctx.team_id);
  if (ctx.params[0] != team.slug) return ErrorResponse(404, "not found");
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, ctx.params[1]);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  return JsonResponse(200, DatasetJson(ctx.store.state(), *ds));
}

SimResponse HandleAttributes(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Dataset* ds = DatasetParam(ctx, 0);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  json::array out;
  for (const auto& [id, attr] : ctx.store.state().attributes) {
    const AnnotationClass* cls = ctx.store.ClassLocked(ctx.team_id, attr.class_id);
    if (cls == nullptr) continue;
    out.push_back(json::object{{"id", attr.id}, {"name", attr.name}, {"class_id", attr.class_id}});
  }
  return JsonResponse(200, out);
}

SimResponse HandleAnnotationTypes(ApiContext&) { return JsonResponse(200, AnnotationTypesJson()); }

SimResponse HandleListWorkflows(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  json::array out;
  for (const std::string& id : ctx.store.state().workflow_order) {
    Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, id);
    if (wf != nullptr) out.push_back(WorkflowJson(ctx.store.state(), *wf));
  }
  return JsonResponse(200, out);
}

SimResponse HandleGetWorkflow(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, ctx.params[1]);
  if (wf == nullptr) return ErrorResponse(404, "workflow not found");
  return JsonResponse(200, WorkflowJson(ctx.store.state(), *wf));
}

SimResponse HandleUnlinkWorkflow(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, ctx.params[1]);
  if (wf == nullptr) return ErrorResponse(404, "workflow not found");
  wf->dataset_id.reset();
  return JsonResponse(200, WorkflowJson(ctx.store.state(), *wf));
}

SimResponse HandlePutWorkflow(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, ctx.params[1]);
  if (wf == nullptr) return ErrorResponse(404, "workflow not found");
  if (body->contains("name")) wf->name = GetString(*body, "name");
  // Detaching: a dataset stage whose config.dataset_id is null.
  for (const json::value& stage : GetArray(*body, "stages")) {
    if (!stage.is_object() || GetString(stage.as_object(), "type") != "dataset") continue;
    const json::object config = GetObject(stage.as_object(), "config");
    const json::value* ds = config.if_contains("dataset_id");
    if (ds != nullptr && ds->is_null()) wf->dataset_id.reset();
  }
  return JsonResponse(200, WorkflowJson(ctx.store.state(), *wf));
}

SimResponse HandleDeleteWorkflow(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  State& state = ctx.store.state();
  Workflow* wf = ctx.store.WorkflowLocked(ctx.team_id, ctx.params[1]);
  if (wf == nullptr) return ErrorResponse(404, "workflow not found");
  const std::string id = wf->id;
  for (auto& [ds_id, ds] : state.datasets) {
    if (ds.workflow_id == id) ds.workflow_id.clear();
  }
  state.workflows.erase(id);
  std::erase(state.workflow_order, id);
  return JsonResponse(200, json::object{{"id", id}});
}

}  // namespace labelport::darwin_sim
