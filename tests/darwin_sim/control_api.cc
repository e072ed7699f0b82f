#include "control_api.h"

#include "absl/functional/function_ref.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "annotator.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "raster_masks.h"
#include "request_body.h"

namespace labelport::darwin_sim {
namespace {

SimResponse StatusError(const absl::Status& s) {
  int code = 422;
  if (absl::IsNotFound(s)) code = 404;
  if (absl::IsAlreadyExists(s)) code = 409;
  return ErrorResponse(code, s.message());
}

constexpr const char* kStatuses[] = {"uploading", "processing", "new",  "annotate",
                                     "review",    "complete",   "error"};

bool ValidStatus(std::string_view s) {
  for (const char* v : kStatuses) {
    if (s == v) return true;
  }
  return false;
}

json::object ConfigJson(RuntimeConfig& c, const State& state) {
  json::object o;
  o["latency_ms"] = c.latency_ms.load();
  o["processing_delay_ms"] = c.processing_delay_ms.load();
  o["export_delay_ms"] = c.export_delay_ms.load();
  o["rate_limit_per_minute"] = c.rate_limit_per_minute.load();
  o["import_body_limit"] = c.import_body_limit.load();
  o["default_page_size"] = c.default_page_size.load();
  json::object declared;
  for (const auto& [name, facts] : state.declared_media) declared[name] = facts;
  o["declared_media"] = std::move(declared);
  return o;
}

// Sets `item` to `status`, moving it to the matching workflow stage.
void SetItemStatus(Store& store, Item& item, const std::string& status,
                   const std::string& processing_status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  item.ready_at.reset();
  item.status = status;
  item.processing_status = processing_status.empty() ? (status == "error"        ? "error"
                                                        : status == "processing" ? "processing"
                                                                                 : "complete")
                                                     : processing_status;
  item.updated_at = NowTimestamp();
  auto ds = store.state().datasets.find(item.dataset_id);
  if (ds == store.state().datasets.end()) return;
  Workflow* wf = store.WorkflowLocked(item.team_id, ds->second.workflow_id);
  if (wf == nullptr) return;
  const std::string stage_type = status == "new" ? "dataset" : status;
  for (const WorkflowStage& s : wf->stages) {
    if (s.type == stage_type) item.workflow_stage_id = s.id;
  }
}

}  // namespace

std::string NewApiKey() {
  const std::string token = NewToken();
  return absl::StrCat(NewToken().substr(0, 7), ".", token);
}

ControlApi::ControlApi(Store* store, FaultRegistry* faults, RequestLog* log, RateLimiter* limiter,
                       std::vector<TeamSeed> seeds)
    : store_(store), faults_(faults), log_(log), limiter_(limiter), seeds_(std::move(seeds)) {}

absl::Status ControlApi::Seed() {
  absl::MutexLock lock(&store_->mu());
  for (const TeamSeed& seed : seeds_) {
    absl::StatusOr<Team*> team = store_->AddTeamKeyLocked(seed.slug, seed.name, seed.api_key);
    if (!team.ok()) return team.status();
  }
  return absl::OkStatus();
}

SimResponse ControlApi::Handle(const SimRequest& req) {
  std::vector<std::string> seg;
  for (absl::string_view s : absl::StrSplit(req.path, '/', absl::SkipEmpty())) seg.emplace_back(s);
  // seg[0] == "_sim".
  const std::string& m = req.method;
  if (seg.size() == 2) {
    if (seg[1] == "reset" && m == "POST") return Reset();
    if (seg[1] == "teams" && m == "POST") return CreateTeam(req);
    if (seg[1] == "state" && m == "GET") return StateSummary();
    if (seg[1] == "config") return Config(req);
    if (seg[1] == "faults") return Faults(req);
    if (seg[1] == "requests") return Requests(req);
    if (seg[1] == "attributes" && m == "POST") return Attributes(req);
    if (seg[1] == "storage" && m == "POST") return Storage(req);
  }
  if (seg.size() == 6 && seg[1] == "items" && seg[3] == "annotations" && m == "POST" &&
      (seg[5] == "split" || seg[5] == "merge")) {
    return TrackEdit(req, seg[2], seg[4], seg[5]);
  }
  if (seg.size() == 5 && seg[1] == "items" && seg[3] == "masks" && seg[4] == "paint" &&
      m == "POST") {
    return PaintMask(req, seg[2]);
  }
  if ((seg.size() == 4 || seg.size() == 5) && seg[1] == "items" && seg[3] == "annotations") {
    return ItemAnnotations(req, seg[2], seg.size() == 5 ? seg[4] : "");
  }
  if (seg.size() == 4 && seg[1] == "items" && seg[3] == "status" && m == "POST") {
    return ItemStatus(req, seg[2]);
  }
  if (seg.size() == 4 && seg[1] == "datasets" && seg[3] == "status" && m == "POST") {
    return DatasetStatus(req, seg[2]);
  }
  return ErrorResponse(404, absl::StrCat("no control endpoint ", m, " ", req.path));
}

SimResponse ControlApi::Reset() {
  {
    absl::MutexLock lock(&store_->mu());
    store_->ResetLocked();
  }
  faults_->Clear();
  log_->Clear();
  limiter_->Clear();
  if (absl::Status s = Seed(); !s.ok()) return StatusError(s);
  return JsonResponse(200, json::object{{"reset", true}});
}

SimResponse ControlApi::CreateTeam(const SimRequest& req) {
  json::object body;
  std::string slug;
  if (auto refused = ParseBodyNaming(req.body, "slug", &body, &slug)) return *refused;
  std::string key = GetString(body, "api_key");
  if (key.empty()) key = NewApiKey();
  absl::MutexLock lock(&store_->mu());
  absl::StatusOr<Team*> team = store_->AddTeamKeyLocked(slug, GetString(body, "name"), key);
  if (!team.ok()) return StatusError(team.status());
  json::object out;
  out["id"] = (*team)->id;
  out["slug"] = (*team)->slug;
  out["name"] = (*team)->name;
  out["api_key"] = key;
  return JsonResponse(200, out);
}

namespace {

// The entries of GET /_sim/state (a summary, not the V7 shapes).
json::object SlotSummary(const Slot& s) {
  return {{"slot_name", s.slot_name},      {"type", s.type},
          {"file_name", s.file_name},      {"size_bytes", s.size_bytes},
          {"width", ValueOrNull(s.width)}, {"height", ValueOrNull(s.height)}};
}

json::object ItemSummary(const Item& item) {
  json::array slots;
  for (const Slot& s : item.slots) slots.push_back(SlotSummary(s));
  return {{"id", item.id},
          {"name", item.name},
          {"path", item.path},
          {"status", item.status},
          {"processing_status", item.processing_status},
          {"archived", item.archived},
          {"annotation_count", static_cast<int64_t>(item.annotations.size())},
          {"slots", std::move(slots)}};
}

json::object DatasetSummary(const State& state, const Dataset& ds) {
  json::array items;
  for (uint64_t seq : ds.item_seqs) items.push_back(ItemSummary(state.items.at(seq)));
  json::array exports;
  for (const Export& e : state.exports) {
    if (e.dataset_id != ds.id) continue;
    exports.push_back(json::object{{"name", e.name}, {"version", e.version}, {"status", e.status}});
  }
  const auto export_count = static_cast<int64_t>(exports.size());
  return {{"id", ds.id},
          {"name", ds.name},
          {"slug", ds.slug},
          {"archived", ds.archived},
          {"workflow_id", ds.workflow_id},
          {"items", std::move(items)},
          {"export_count", export_count},
          {"exports", std::move(exports)}};
}

json::object TeamSummary(const State& state, const Team& team) {
  json::array datasets;
  for (const auto& [ds_id, ds] : state.datasets) {
    if (ds.team_id == team.id) datasets.push_back(DatasetSummary(state, ds));
  }
  json::array classes;
  for (const auto& [id, cls] : state.classes) {
    if (cls.team_id != team.id) continue;
    json::object c = ClassJson(cls);
    classes.push_back(json::object{{"id", c["id"]},
                                   {"name", c["name"]},
                                   {"annotation_types", c["annotation_types"]},
                                   {"datasets", c["datasets"]}});
  }
  json::array properties;
  for (const std::string& pid : state.property_order) {
    const Property& p = state.properties.at(pid);
    if (p.team_id == team.id) properties.push_back(PropertyJson(p, true));
  }
  return {{"id", team.id},
          {"slug", team.slug},
          {"name", team.name},
          {"datasets", std::move(datasets)},
          {"classes", std::move(classes)},
          {"properties", std::move(properties)}};
}

}  // namespace

SimResponse ControlApi::StateSummary() {
  absl::MutexLock lock(&store_->mu());
  store_->AdvanceLocked();
  const State& state = store_->state();
  json::array teams;
  int64_t total_exports = 0;
  for (const auto& [team_id, team] : state.teams) {
    json::object t = TeamSummary(state, team);
    for (const json::value& ds : t["datasets"].as_array()) {
      total_exports += ds.at("export_count").as_int64();
    }
    teams.push_back(std::move(t));
  }
  return JsonResponse(200,
                      json::object{{"teams", std::move(teams)}, {"exports_count", total_exports}});
}

SimResponse ControlApi::Config(const SimRequest& req) {
  RuntimeConfig& c = store_->config();
  if (req.method == "POST") {
    absl::StatusOr<json::object> body = ParseJsonObject(req.body);
    if (!body.ok()) return ErrorResponse(400, body.status().message());
    auto set = [&](const char* key, std::atomic<int64_t>& field) {
      if (std::optional<int64_t> v = GetInt(*body, key); v.has_value() && *v >= 0) field = *v;
    };
    set("latency_ms", c.latency_ms);
    set("processing_delay_ms", c.processing_delay_ms);
    set("export_delay_ms", c.export_delay_ms);
    set("rate_limit_per_minute", c.rate_limit_per_minute);
    set("import_body_limit", c.import_body_limit);
    set("default_page_size", c.default_page_size);
    if (c.default_page_size.load() == 0) c.default_page_size = 500;
    absl::MutexLock lock(&store_->mu());
    for (const auto& kv : GetObject(*body, "declared_media")) {
      if (kv.value().is_object()) {
        store_->state().declared_media[std::string(kv.key())] = kv.value().as_object();
      }
    }
    return JsonResponse(200, ConfigJson(c, store_->state()));
  }
  if (req.method != "GET") return ErrorResponse(405, "method not allowed");
  absl::MutexLock lock(&store_->mu());
  return JsonResponse(200, ConfigJson(c, store_->state()));
}

SimResponse ControlApi::Faults(const SimRequest& req) {
  if (req.method == "POST") {
    absl::StatusOr<json::object> body = ParseJsonObject(req.body);
    if (!body.ok()) return ErrorResponse(400, body.status().message());
    absl::StatusOr<Fault> fault = FaultFromJson(*body);
    if (!fault.ok()) return ErrorResponse(422, fault.status().message());
    const int64_t id = faults_->Add(*fault);
    return JsonResponse(200, json::object{{"id", id}});
  }
  if (req.method == "DELETE") {
    faults_->Clear();
    return JsonResponse(200, json::object());
  }
  json::array list;
  for (const Fault& f : faults_->List()) list.push_back(FaultToJson(f));
  return JsonResponse(200, json::object{{"faults", std::move(list)}});
}

SimResponse ControlApi::Requests(const SimRequest& req) {
  if (req.method == "DELETE") {
    log_->Clear();
    return JsonResponse(200, json::object());
  }
  int64_t after = 0;
  int64_t limit = 10000;
  if (std::optional<std::string> v = req.query.Get("after")) (void)absl::SimpleAtoi(*v, &after);
  if (std::optional<std::string> v = req.query.Get("limit")) (void)absl::SimpleAtoi(*v, &limit);
  return JsonResponse(
      200, json::object{{"requests",
                         log_->ToJson(after, static_cast<size_t>(std::max<int64_t>(limit, 0)))}});
}

namespace {

// A view an annotator call returned: 200 with it, or the call's error.
SimResponse ViewResponse(const absl::StatusOr<json::object>& view) {
  if (!view.ok()) return StatusError(view.status());
  return JsonResponse(200, *view);
}

// Handles a control request on item `item_id` with a JSON object body: f(item,
// body) under the store's lock, after advancing the simulated time. 400 for a
// body that is not a JSON object, 404 for an unknown item.
SimResponse OnItem(Store& store, const SimRequest& req, const std::string& item_id,
                   absl::FunctionRef<SimResponse(Item&, const json::object&)> f) {
  absl::StatusOr<json::object> body = ParseJsonObject(req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&store.mu());
  store.AdvanceLocked();
  Item* item = store.ItemLocked(item_id);
  if (item == nullptr) return ErrorResponse(404, absl::StrCat("item ", item_id, " not found"));
  return f(*item, *body);
}

// The workflow status a body asks for ("status", else "stage"; the stage
// "dataset" is "new"). Errors: InvalidArgument "invalid status <status>" for
// one that is none of kStatuses.
absl::StatusOr<std::string> RequestedStatus(const json::object& body) {
  const std::string status = GetString(body, "status", GetString(body, "stage"));
  if (status == "dataset") return "new";
  if (!ValidStatus(status))
    return absl::InvalidArgumentError(absl::StrCat("invalid status ", status));
  return status;
}

}  // namespace

SimResponse ControlApi::ItemAnnotations(const SimRequest& req, const std::string& item_id,
                                        const std::string& annotation_id) {
  return OnItem(*store_, req, item_id, [&](Item& item, const json::object& body) {
    if (annotation_id.empty() && req.method == "GET") {
      json::array list;
      for (const Annotation& a : item.annotations) {
        list.push_back(AnnotationView(store_->state(), a));
      }
      return JsonResponse(200,
                          json::object{{"item_id", item.id}, {"annotations", std::move(list)}});
    }
    if (annotation_id.empty() && req.method == "POST") {
      return ViewResponse(AddAnnotationLocked(*store_, item, body));
    }
    if (!annotation_id.empty() && (req.method == "PATCH" || req.method == "PUT")) {
      return ViewResponse(EditAnnotationLocked(*store_, item, annotation_id, body));
    }
    if (!annotation_id.empty() && req.method == "DELETE") {
      if (absl::Status s = DeleteAnnotationLocked(*store_, item, annotation_id); !s.ok()) {
        return StatusError(s);
      }
      return JsonResponse(200, json::object{{"deleted", annotation_id}});
    }
    return ErrorResponse(405, "method not allowed");
  });
}

SimResponse ControlApi::PaintMask(const SimRequest& req, const std::string& item_id) {
  return OnItem(*store_, req, item_id, [&](Item& item, const json::object& body) {
    return ViewResponse(PaintMaskLocked(*store_, item, body));
  });
}

SimResponse ControlApi::TrackEdit(const SimRequest& req, const std::string& item_id,
                                  const std::string& annotation_id, const std::string& action) {
  return OnItem(*store_, req, item_id, [&](Item& item, const json::object& body) {
    if (action == "split") {
      std::optional<int64_t> frame = GetInt(body, "frame");
      if (!frame.has_value()) return ErrorResponse(422, "split needs an integer \"frame\"");
      return ViewResponse(SplitTrackLocked(*store_, item, annotation_id, *frame));
    }
    const std::string other = GetString(body, "other");
    if (other.empty()) return ErrorResponse(422, "merge needs \"other\": <annotation id>");
    return ViewResponse(MergeTracksLocked(*store_, item, annotation_id, other));
  });
}

SimResponse ControlApi::ItemStatus(const SimRequest& req, const std::string& item_id) {
  return OnItem(*store_, req, item_id, [&](Item& item, const json::object& body) {
    absl::StatusOr<std::string> status = RequestedStatus(body);
    if (!status.ok()) return ErrorResponse(422, status.status().message());
    SetItemStatus(*store_, item, *status, GetString(body, "processing_status"));
    return JsonResponse(200, ItemJson(store_->state(), item, true));
  });
}

SimResponse ControlApi::DatasetStatus(const SimRequest& req, const std::string& dataset_id) {
  absl::StatusOr<json::object> body = ParseJsonObject(req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::StatusOr<std::string> status = RequestedStatus(*body);
  if (!status.ok()) return ErrorResponse(422, status.status().message());
  int64_t id = 0;
  if (!absl::SimpleAtoi(dataset_id, &id)) return ErrorResponse(404, "dataset not found");
  absl::MutexLock lock(&store_->mu());
  store_->AdvanceLocked();
  auto ds = store_->state().datasets.find(id);
  if (ds == store_->state().datasets.end()) return ErrorResponse(404, "dataset not found");
  json::array ids;
  for (uint64_t seq : ds->second.item_seqs) {
    Item& item = store_->state().items.at(seq);
    SetItemStatus(*store_, item, *status, GetString(*body, "processing_status"));
    ids.emplace_back(item.id);
  }
  return JsonResponse(200, json::object{{"item_ids", std::move(ids)}});
}

SimResponse ControlApi::Attributes(const SimRequest& req) {
  json::object body;
  std::string name;
  if (auto refused = ParseBodyNaming(req.body, "name", &body, &name)) return *refused;
  absl::MutexLock lock(&store_->mu());
  State& state = store_->state();
  std::optional<int64_t> class_id = GetInt(body, "class_id");
  if (!class_id.has_value()) {
    const Team* team = GetString(body, "team").empty()
                           ? (state.teams.empty() ? nullptr : &state.teams.begin()->second)
                           : store_->TeamBySlugLocked(GetString(body, "team"));
    if (team == nullptr) return ErrorResponse(404, "team not found");
    AnnotationClass* cls =
        store_->FindClassLocked(team->id, GetString(body, "class_name"), GetString(body, "type"));
    if (cls == nullptr) return ErrorResponse(404, "class not found");
    class_id = cls->id;
  }
  auto cls = state.classes.find(*class_id);
  if (cls == state.classes.end()) return ErrorResponse(404, "class not found");
  if (std::find(cls->second.annotation_types.begin(), cls->second.annotation_types.end(),
                "attributes") == cls->second.annotation_types.end()) {
    cls->second.annotation_types.emplace_back("attributes");
  }
  Attribute attr{state.next_attribute_id++, *class_id, name};
  state.attributes[attr.id] = attr;
  json::object out;
  out["id"] = attr.id;
  out["class_id"] = attr.class_id;
  out["name"] = attr.name;
  return JsonResponse(200, out);
}

SimResponse ControlApi::Storage(const SimRequest& req) {
  absl::StatusOr<json::object> body = ParseJsonObject(req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  const std::string slug = GetString(*body, "slug");
  const std::string dir = GetString(*body, "directory");
  if (slug.empty() || dir.empty()) return ErrorResponse(422, "slug and directory are required");
  absl::MutexLock lock(&store_->mu());
  State& state = store_->state();
  const Team* team = GetString(*body, "team").empty()
                         ? (state.teams.empty() ? nullptr : &state.teams.begin()->second)
                         : store_->TeamBySlugLocked(GetString(*body, "team"));
  if (team == nullptr) return ErrorResponse(404, "team not found");
  state.storage[{team->id, slug}] = dir;
  json::object out;
  out["slug"] = slug;
  out["directory"] = dir;
  return JsonResponse(200, out);
}

}  // namespace labelport::darwin_sim
