// Exports (E38-E40), darwin-api.md §2.10 and §10.5 rule 2.
#include <chrono>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "request_body.h"

namespace labelport::darwin_sim {

SimResponse HandleCreateExport(ApiContext& ctx) {
  json::object body;
  std::string name;
  if (auto refused = ParseBodyNaming(ctx.req.body, "name", &body, &name)) return *refused;
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  State& state = ctx.store.state();
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, ctx.params[1]);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  int64_t version = 0;
  for (const Export& e : state.exports) {
    if (e.dataset_id != ds->id) continue;
    if (e.name == name) return NameTakenResponse();
    version = std::max(version, e.version);
  }
  Export exp;
  exp.dataset_id = ds->id;
  exp.name = name;
  exp.version = version + 1;
  exp.format = GetString(body, "format", "darwin_json_2");
  if (const json::value* f = body.if_contains("filters"); f != nullptr && f->is_object()) {
    exp.filters = *f;
  }
  exp.annotation_filters = GetObject(body, "annotation_filters");
  // RemoteDatasetV2.export sends class ids inside `filters`; they also limit
  // which annotations are written.
  if (exp.filters.is_object() && exp.filters.as_object().contains("annotation_class_ids") &&
      !exp.annotation_filters.contains("annotation_class_ids")) {
    exp.annotation_filters["annotation_class_ids"] =
        exp.filters.as_object().at("annotation_class_ids");
  }
  exp.include_authorship = GetBool(body, "include_authorship", false);
  exp.include_export_token = GetBool(body, "include_export_token", false);
  exp.inserted_at = NowTimestamp();
  exp.download_token = NewToken();
  exp.base_url = ctx.req.base_url;
  exp.ready_at = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(ctx.store.config().export_delay_ms.load());
  ctx.store.BuildExportLocked(exp);
  state.exports.push_back(std::move(exp));
  json::object out = ExportJson(state, state.exports.back(), ctx.req.base_url);
  ctx.store.AdvanceLocked();
  return JsonResponse(200, out);
}

SimResponse HandleListExports(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  State& state = ctx.store.state();
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, ctx.params[1]);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  json::array out;
  for (const Export& e : state.exports) {
    if (e.dataset_id == ds->id) out.push_back(ExportJson(state, e, ctx.req.base_url));
  }
  return JsonResponse(200, out);
}

// DELETE of an export by name: V7's release deletion (not in the SDK).
SimResponse HandleDeleteExport(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  State& state = ctx.store.state();
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, ctx.params[1]);
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  // Names are unique within a dataset: at most one export goes.
  const size_t deleted = std::erase_if(state.exports, [&](const Export& e) {
    return e.dataset_id == ds->id && e.name == ctx.params[2];
  });
  if (deleted == 0) return ErrorResponse(404, "export not found");
  return JsonResponse(200, json::object());
}

SimResponse HandleDownloadExport(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  ctx.store.AdvanceLocked();
  for (const Export& e : ctx.store.state().exports) {
    if (e.download_token == ctx.params[0] && e.zip != nullptr) {
      SimResponse r;
      r.status = 200;
      r.content_type = "application/zip";
      r.body = *e.zip;
      return r;
    }
  }
  return ErrorResponse(404, "export not found");
}

}  // namespace labelport::darwin_sim
