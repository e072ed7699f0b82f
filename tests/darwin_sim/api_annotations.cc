// Annotation import and read-back (E35-E37), darwin-api.md §10.5 rule 1.
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "raster_masks.h"
#include "skeletons.h"
#include "video_track.h"

namespace labelport::darwin_sim {
namespace {

Item* TeamItem(ApiContext& ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ctx.store.mu()) {
  Item* item = ctx.store.ItemLocked(ctx.params[1]);
  if (item == nullptr || item->team_id != ctx.team_id) return nullptr;
  return item;
}

}  // namespace

SimResponse HandleImport(ApiContext& ctx) {
  const int64_t limit = ctx.store.config().import_body_limit.load();
  if (limit > 0 && static_cast<int64_t>(ctx.req.body.size()) > limit) {
    return ErrorResponse(413, "payload too large");
  }
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = TeamItem(ctx);
  if (item == nullptr) return ErrorResponse(404, "item not found");

  // Validate everything before mutating, so a bad payload changes nothing.
  std::vector<Annotation> incoming;
  for (const json::value& v : GetArray(*body, "annotations")) {
    if (!v.is_object()) return ErrorResponse(422, "annotation is not an object");
    const json::object& in = v.as_object();
    Annotation a;
    const std::optional<int64_t> class_id = GetInt(in, "annotation_class_id");
    if (!class_id.has_value() || ctx.store.ClassLocked(ctx.team_id, *class_id) == nullptr) {
      return ErrorResponse(422,
                           absl::StrCat("unknown annotation_class_id in ",
                                        json::serialize(in.if_contains("annotation_class_id")
                                                            ? *in.if_contains("annotation_class_id")
                                                            : json::value(nullptr))));
    }
    a.class_id = *class_id;
    a.id = GetString(in, "id");
    if (a.id.empty()) a.id = NewUuid();
    a.data = GetObject(in, "data");
    if (IsVideoData(a.data)) {
      if (absl::StatusOr<VideoTrack> track = ParseVideoTrack(a.data); !track.ok()) {
        return ErrorResponse(422, absl::StrCat("annotation ", incoming.size(),
                                               " (video): ", track.status().message()));
      }
    }
    for (const json::value& s : GetArray(GetObject(in, "context_keys"), "slot_names")) {
      if (s.is_string()) a.slot_names.emplace_back(s.as_string());
    }
    if (a.slot_names.empty() && !item->slots.empty()) {
      a.slot_names.push_back(item->slots[0].slot_name);
    }
    if (!IsVideoData(a.data)) {
      const AnnotationClass* cls = ctx.store.ClassLocked(ctx.team_id, *class_id);
      std::optional<int64_t> slot_pixels;
      for (const Slot& slot : item->slots) {
        if (slot.slot_name == a.slot_names.front() && slot.width && slot.height)
          slot_pixels = *slot.width * *slot.height;
      }
      const std::string main_type = cls->annotation_types.empty() ? "" : cls->annotation_types[0];
      if (absl::Status s = ValidateMaskData(main_type, cls->name, a.data, slot_pixels); !s.ok()) {
        return ErrorResponse(422, absl::StrCat("annotation ", incoming.size(), ": ", s.message()));
      }
      if (const json::value* skeleton = a.data.if_contains("skeleton")) {
        absl::Status s = main_type == "skeleton"
                             ? ValidateSkeletonData(*cls, *skeleton)
                             : absl::InvalidArgumentError(absl::StrCat(
                                   "skeleton: class '", cls->name, "' is not a skeleton class"));
        if (!s.ok())
          return ErrorResponse(422,
                               absl::StrCat("annotation ", incoming.size(), ": ", s.message()));
      }
    }
    a.annotation_properties = GetObject(in, "annotation_properties");
    a.actors = GetArray(in, "actors");
    incoming.push_back(std::move(a));
  }
  std::map<std::string, json::array> item_values;
  json::array item_actors;
  for (const json::value& v : GetArray(*body, "properties")) {
    if (!v.is_object()) continue;
    const std::string pid = GetString(v.as_object(), "property_id");
    if (ctx.store.PropertyLocked(ctx.team_id, pid) == nullptr) {
      return ErrorResponse(422, absl::StrCat("unknown property_id ", pid));
    }
    json::array& values = item_values[pid];
    const json::value* value = v.as_object().if_contains("value");
    if (value != nullptr && value->is_object() && !value->as_object().empty()) {
      values.push_back(*value);
    }
    for (const json::value& actor : GetArray(v.as_object(), "actors")) {
      item_actors.push_back(actor);
    }
  }

  const json::value* overwrite = body->if_contains("overwrite");
  const bool clear =
      overwrite != nullptr && ((overwrite->is_bool() && overwrite->as_bool()) ||
                               (overwrite->is_string() && overwrite->as_string() == "true"));
  if (clear) item->annotations.clear();
  for (Annotation& a : incoming) {
    bool replaced = false;
    for (Annotation& existing : item->annotations) {
      if (existing.id == a.id) {
        existing = a;
        replaced = true;
      }
    }
    if (!replaced) item->annotations.push_back(std::move(a));
  }
  for (auto& [pid, values] : item_values) {
    if (values.empty()) {
      item->item_properties.erase(pid);
    } else {
      item->item_properties[pid] = std::move(values);
    }
  }
  if (!item_actors.empty()) item->item_property_actors = std::move(item_actors);
  item->updated_at = NowTimestamp();
  return JsonResponse(200, json::object());
}

SimResponse HandleItemAnnotations(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = TeamItem(ctx);
  if (item == nullptr) return ErrorResponse(404, "item not found");
  json::array out;
  for (const Annotation& a : item->annotations) out.push_back(StoredAnnotationJson(a));
  return JsonResponse(200, out);
}

SimResponse HandleItemProperties(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = TeamItem(ctx);
  if (item == nullptr) return ErrorResponse(404, "item not found");
  json::array out;
  for (const auto& [pid, values] : item->item_properties) {
    out.push_back(json::object{{"id", pid}, {"values", values}});
  }
  return JsonResponse(200, json::object{{"properties", std::move(out)}});
}

}  // namespace labelport::darwin_sim
