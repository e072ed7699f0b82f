#include "api_router.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace labelport::darwin_sim {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    out.emplace_back(s);
  }
  return out;
}

}  // namespace

ApiRouter::ApiRouter(Store* store) : store_(store) {
  // Public routes: signed URLs hold an unguessable token instead of a key.
  Add("PUT", "/_upload/{}", &HandlePutUpload, false);
  Add("GET", "/_download/{}/export.zip", &HandleDownloadExport, false);
  Add("GET", "/api/v2/teams/{}/uploads/{}", &HandleGetSourceFile, false);
  Add("GET", "/api/v2/teams/{}/files/{}/thumbnail", &HandleGetSlotFile, false);
  Add("GET", "/api/v2/teams/{}/files/{}/sections/{}", &HandleGetSlotFile, false);

  Add("GET", "/api/users/token_info", &HandleTokenInfo);
  Add("GET", "/api/teams/{}/features", &HandleFeatures);
  Add("GET", "/api/teams/{}/storage", &HandleStorage);
  Add("GET", "/api/datasets", &HandleListDatasets);
  Add("POST", "/api/datasets", &HandleCreateDataset);
  Add("GET", "/api/datasets/{}", &HandleGetDataset);
  Add("PUT", "/api/datasets/{}/archive", &HandleArchiveDataset);
  Add("GET", "/api/datasets/{}/attributes", &HandleAttributes);
  Add("GET", "/api/annotation_types", &HandleAnnotationTypes);
  Add("GET", "/api/teams/{}/annotation_classes", &HandleListClasses);
  Add("POST", "/api/teams/{}/annotation_classes", &HandleCreateTeamClass);
  Add("POST", "/api/annotation_classes", &HandleCreateClass);
  Add("PUT", "/api/annotation_classes/{}", &HandleUpdateClass);
  Add("DELETE", "/api/annotation_classes/{}", &HandleDeleteClass);
  Add("GET", "/api/v2/teams/{}/properties", &HandleListProperties);
  Add("POST", "/api/v2/teams/{}/properties", &HandleCreateProperty);
  Add("GET", "/api/v2/teams/{}/properties/{}", &HandleGetProperty);
  Add("PUT", "/api/v2/teams/{}/properties/{}", &HandleUpdateProperty);
  Add("DELETE", "/api/v2/teams/{}/properties/{}", &HandleDeleteProperty);
  Add("GET", "/api/v2/teams/{}/items", &HandleListItems);
  Add("DELETE", "/api/v2/teams/{}/items", &HandleDeleteItems);
  Add("GET", "/api/v2/teams/{}/items/status_counts", &HandleStatusCounts);
  Add("POST", "/api/v2/teams/{}/items/register_upload", &HandleRegisterUpload);
  Add("GET", "/api/v2/teams/{}/items/uploads/{}/sign", &HandleSignUpload);
  Add("POST", "/api/v2/teams/{}/items/uploads/{}/confirm", &HandleConfirmUpload);
  Add("POST", "/api/v2/teams/{}/items/direct_upload", &HandleDirectUpload);
  Add("POST", "/api/v2/teams/{}/items/register_existing", &HandleRegisterExisting);
  Add("POST", "/api/v2/teams/{}/items/register_existing_readonly", &HandleRegisterReadonly);
  Add("POST", "/api/v2/teams/{}/items/archive", &HandleArchiveItems);
  Add("POST", "/api/v2/teams/{}/items/restore", &HandleRestoreItems);
  Add("POST", "/api/v2/teams/{}/items/stage", &HandleMoveToStage);
  Add("POST", "/api/v2/teams/{}/items/{}/comment_threads", &HandleCommentThreads);
  Add("POST", "/api/v2/teams/{}/items/{}/import", &HandleImport);
  Add("GET", "/api/v2/teams/{}/items/{}/annotations", &HandleItemAnnotations);
  Add("GET", "/api/v2/teams/{}/items/{}/properties", &HandleItemProperties);
  Add("POST", "/api/v2/teams/{}/datasets/{}/exports", &HandleCreateExport);
  Add("GET", "/api/v2/teams/{}/datasets/{}/exports", &HandleListExports);
  Add("DELETE", "/api/v2/teams/{}/datasets/{}/exports/{}", &HandleDeleteExport);
  Add("GET", "/api/v2/teams/{}/workflows", &HandleListWorkflows);
  Add("GET", "/api/v2/teams/{}/workflows/{}", &HandleGetWorkflow);
  Add("PUT", "/api/v2/teams/{}/workflows/{}", &HandlePutWorkflow);
  Add("DELETE", "/api/v2/teams/{}/workflows/{}", &HandleDeleteWorkflow);
  Add("PATCH", "/api/v2/teams/{}/workflows/{}/unlink_dataset", &HandleUnlinkWorkflow);
  // Last: E8 would otherwise shadow two-segment v1 paths.
  Add("GET", "/api/{}/{}", &HandleDatasetBySlug);
}

void ApiRouter::Add(std::string method, std::string pattern, ApiHandler handler, bool needs_auth) {
  Route r;
  r.method = std::move(method);
  r.segments = Split(pattern);
  r.needs_auth = needs_auth;
  r.team_scoped =
      absl::StartsWith(pattern, "/api/v2/teams/{}") || absl::StartsWith(pattern, "/api/teams/{}");
  r.handler = handler;
  routes_.push_back(std::move(r));
}

std::string ApiRouter::ApiKeyOf(const SimRequest& req) {
  const std::string auth = req.Header("authorization");
  constexpr absl::string_view kPrefix = "ApiKey ";
  if (!absl::StartsWithIgnoreCase(auth, kPrefix)) return "";
  return auth.substr(kPrefix.size());
}

SimResponse ApiRouter::Handle(const SimRequest& req) const {
  const std::vector<std::string> segments = Split(req.path);
  bool path_known = false;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> captures;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      if (route.segments[i] == "{}") {
        captures.push_back(segments[i]);
      } else if (route.segments[i] != segments[i]) {
        match = false;
      }
    }
    if (!match) continue;
    if (route.method != req.method) {
      path_known = true;
      continue;
    }
    ApiContext ctx{*store_, req, std::move(captures), 0};
    if (route.needs_auth) {
      const std::string key = ApiKeyOf(req);
      absl::MutexLock lock(&store_->mu());
      const Team* team = key.empty() ? nullptr : store_->TeamForKeyLocked(key);
      if (team == nullptr) return ErrorResponse(401, "invalid or missing API key");
      if (route.team_scoped && ctx.params[0] != team->slug) {
        return ErrorResponse(403, "API key does not belong to this team");
      }
      ctx.team_id = team->id;
    }
    return route.handler(ctx);
  }
  if (path_known) return ErrorResponse(405, "method not allowed");
  return ErrorResponse(404, "not found");
}

}  // namespace labelport::darwin_sim
