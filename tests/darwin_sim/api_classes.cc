// Annotation classes and properties (E11-E20).
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "skeletons.h"

namespace labelport::darwin_sim {
namespace {

constexpr const char* kPropertyTypes[] = {"multi_select", "single_select", "text",
                                          "attributes",   "instance_id",   "directional_vector"};
constexpr const char* kGranularities[] = {"section", "annotation", "item"};

template <size_t N>
bool OneOf(std::string_view v, const char* const (&list)[N]) {
  return std::any_of(std::begin(list), std::end(list), [&](const char* s) { return v == s; });
}

std::vector<int64_t> DatasetIdsFrom(const json::object& body) {
  std::vector<int64_t> out;
  for (const json::value& d : GetArray(body, "datasets")) {
    std::optional<int64_t> id = d.is_object() ? GetInt(d.as_object(), "id") : AsInt(d);
    if (id.has_value() && std::find(out.begin(), out.end(), *id) == out.end()) {
      out.push_back(*id);
    }
  }
  return out;
}

std::string ColorOrAuto(const json::object& o) {
  std::string color = GetString(o, "color", "auto");
  if (color.rfind("rgba", 0) != 0) color = "auto";
  return color;
}

void AppendValues(Property& p, const json::array& values) {
  for (const json::value& v : values) {
    if (!v.is_object()) continue;
    const std::string value = GetString(v.as_object(), "value");
    const bool exists = std::any_of(p.values.begin(), p.values.end(),
                                    [&](const PropertyValue& pv) { return pv.value == value; });
    if (exists) continue;
    p.values.push_back(PropertyValue{NewUuid(), value, ColorOrAuto(v.as_object())});
  }
}

std::vector<int64_t> IntList(const json::object& body, std::string_view key) {
  std::vector<int64_t> out;
  for (const json::value& v : GetArray(body, key)) {
    if (std::optional<int64_t> i = AsInt(v)) out.push_back(*i);
  }
  return out;
}

SimResponse CreateClassFrom(ApiContext& ctx, const json::object& body,
                            std::vector<std::string> types, bool name_taken_shape)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(ctx.store.mu()) {
  const std::string name = GetString(body, "name");
  if (name.empty()) return ErrorResponse(422, "name is required");
  if (types.empty() || !IsMainAnnotationType(types[0])) {
    return ErrorResponse(422, "the first annotation type must be a main type");
  }
  if (ctx.store.FindClassLocked(ctx.team_id, name, types[0]) != nullptr) {
    if (name_taken_shape) return NameTakenResponse();
    return ErrorResponse(422, absl::StrCat("class ", name, " already exists"));
  }
  std::vector<int64_t> datasets = DatasetIdsFrom(body);
  if (std::optional<int64_t> ds = GetInt(body, "dataset_id");
      ds.has_value() && std::find(datasets.begin(), datasets.end(), *ds) == datasets.end()) {
    datasets.insert(datasets.begin(), *ds);
  }
  for (int64_t d : datasets) {
    if (ctx.store.DatasetLocked(ctx.team_id, d) == nullptr) {
      return ErrorResponse(422, absl::StrCat("unknown dataset ", d));
    }
  }
  if (types[0] == "skeleton") {
    if (absl::Status s = ValidateSkeletonMetadata(GetObject(body, "metadata")); !s.ok())
      return ErrorResponse(422, s.message());
  }
  AnnotationClass& cls = ctx.store.NewClassLocked(ctx.team_id, name, std::move(types));
  cls.datasets = std::move(datasets);
  if (const json::value* m = body.if_contains("metadata"); m != nullptr && m->is_object()) {
    cls.metadata = m->as_object();
  }
  cls.description = GetString(body, "description");
  return JsonResponse(200, ClassJson(cls));
}

}  // namespace

SimResponse HandleListClasses(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  json::array out;
  for (const auto& [id, cls] : ctx.store.state().classes) {
    if (cls.team_id == ctx.team_id) out.push_back(ClassJson(cls));
  }
  return JsonResponse(200, json::object{{"annotation_classes", std::move(out)}});
}

SimResponse HandleCreateClass(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  std::vector<std::string> types;
  for (int64_t id : IntList(*body, "annotation_type_ids")) {
    const std::string name = AnnotationTypeName(id);
    if (name.empty()) return ErrorResponse(422, absl::StrCat("unknown annotation type ", id));
    types.push_back(name);
  }
  absl::MutexLock lock(&ctx.store.mu());
  return CreateClassFrom(ctx, *body, std::move(types), true);
}

SimResponse HandleCreateTeamClass(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  std::vector<std::string> types;
  for (const json::value& t : GetArray(*body, "annotation_types")) {
    if (!t.is_string() || AnnotationTypeId(t.as_string()) == 0) {
      return ErrorResponse(422, "unknown annotation type");
    }
    types.emplace_back(t.as_string());
  }
  absl::MutexLock lock(&ctx.store.mu());
  return CreateClassFrom(ctx, *body, std::move(types), false);
}

SimResponse HandleUpdateClass(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  int64_t id = 0;
  if (!absl::SimpleAtoi(ctx.params[0], &id)) return ErrorResponse(404, "class not found");
  absl::MutexLock lock(&ctx.store.mu());
  AnnotationClass* cls = ctx.store.ClassLocked(ctx.team_id, id);
  if (cls == nullptr) return ErrorResponse(404, "class not found");
  if (body->contains("datasets")) cls->datasets = DatasetIdsFrom(*body);
  if (body->contains("name")) cls->name = GetString(*body, "name");
  if (body->contains("description")) cls->description = GetString(*body, "description");
  if (const json::value* m = body->if_contains("metadata"); m != nullptr && m->is_object()) {
    cls->metadata = m->as_object();
  }
  if (body->contains("annotation_type_ids")) {
    std::vector<std::string> types;
    for (int64_t t : IntList(*body, "annotation_type_ids")) {
      if (!AnnotationTypeName(t).empty()) types.push_back(AnnotationTypeName(t));
    }
    if (!types.empty() && IsMainAnnotationType(types[0])) cls->annotation_types = types;
  }
  cls->updated_at = NowTimestamp();
  return JsonResponse(200, ClassJson(*cls));
}

SimResponse HandleDeleteClass(ApiContext& ctx) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(ctx.params[0], &id)) return ErrorResponse(404, "class not found");
  absl::MutexLock lock(&ctx.store.mu());
  AnnotationClass* cls = ctx.store.ClassLocked(ctx.team_id, id);
  if (cls == nullptr) return ErrorResponse(404, "class not found");
  if (cls->name == "__raster_layer__") return ErrorResponse(422, "built-in class");
  ctx.store.state().classes.erase(id);
  return JsonResponse(200, json::object{{"id", id}});
}

SimResponse HandleListProperties(ApiContext& ctx) {
  const bool include_values = ctx.req.query.GetBool("include_values", false);
  std::vector<int64_t> class_ids;
  bool class_filter = false;
  for (const std::string& v : ctx.req.query.GetAll("annotation_class_ids")) {
    class_filter = true;
    int64_t id = 0;
    if (absl::SimpleAtoi(v, &id)) class_ids.push_back(id);
  }
  absl::MutexLock lock(&ctx.store.mu());
  json::array out;
  for (const std::string& pid : ctx.store.state().property_order) {
    const Property& p = ctx.store.state().properties.at(pid);
    if (p.team_id != ctx.team_id) continue;
    if (class_filter && (!p.annotation_class_id.has_value() ||
                         std::find(class_ids.begin(), class_ids.end(), *p.annotation_class_id) ==
                             class_ids.end())) {
      continue;
    }
    out.push_back(PropertyJson(p, include_values));
  }
  return JsonResponse(200, json::object{{"properties", std::move(out)}});
}

SimResponse HandleCreateProperty(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  Property p;
  p.id = NewUuid();
  p.team_id = ctx.team_id;
  p.name = GetString(*body, "name");
  p.type = GetString(*body, "type");
  p.granularity = GetString(*body, "granularity", "section");
  p.required = GetBool(*body, "required", false);
  p.description = GetString(*body, "description");
  if (p.name.empty()) return ErrorResponse(422, "name is required");
  if (!OneOf(p.type, kPropertyTypes)) return ErrorResponse(422, "invalid property type");
  if (!OneOf(p.granularity, kGranularities)) return ErrorResponse(422, "invalid granularity");
  if (const json::value* c = body->if_contains("annotation_class_id"); c != nullptr) {
    p.annotation_class_id = AsInt(*c);
  }
  p.dataset_ids = IntList(*body, "dataset_ids");
  p.parent_property_id = GetString(*body, "parent_property_id");
  if (const json::value* t = body->if_contains("trigger_condition")) p.trigger_condition = *t;
  AppendValues(p, GetArray(*body, "property_values"));

  absl::MutexLock lock(&ctx.store.mu());
  State& state = ctx.store.state();
  if (p.annotation_class_id.has_value() &&
      ctx.store.ClassLocked(ctx.team_id, *p.annotation_class_id) == nullptr) {
    return ErrorResponse(422, "unknown annotation_class_id");
  }
  for (const auto& [id, other] : state.properties) {
    if (other.team_id == ctx.team_id && other.name == p.name &&
        other.annotation_class_id == p.annotation_class_id) {
      return ErrorResponse(422, absl::StrCat("property ", p.name, " already exists"));
    }
  }
  json::object out = PropertyJson(p, true);
  state.property_order.push_back(p.id);
  state.properties[p.id] = std::move(p);
  return JsonResponse(200, out);
}

SimResponse HandleUpdateProperty(ApiContext& ctx) {
  absl::StatusOr<json::object> body = ParseJsonObject(ctx.req.body);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  Property* p = ctx.store.PropertyLocked(ctx.team_id, ctx.params[1]);
  if (p == nullptr) return ErrorResponse(404, "property not found");
  if (body->contains("name")) p->name = GetString(*body, "name");
  if (body->contains("description")) p->description = GetString(*body, "description");
  if (body->contains("required")) p->required = GetBool(*body, "required", p->required);
  if (body->contains("type") && OneOf(GetString(*body, "type"), kPropertyTypes)) {
    p->type = GetString(*body, "type");
  }
  if (body->contains("dataset_ids")) p->dataset_ids = IntList(*body, "dataset_ids");
  AppendValues(*p, GetArray(*body, "property_values"));
  return JsonResponse(200, PropertyJson(*p, true));
}

SimResponse HandleGetProperty(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Property* p = ctx.store.PropertyLocked(ctx.team_id, ctx.params[1]);
  if (p == nullptr) return ErrorResponse(404, "property not found");
  return JsonResponse(200, PropertyJson(*p, true));
}

SimResponse HandleDeleteProperty(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Property* p = ctx.store.PropertyLocked(ctx.team_id, ctx.params[1]);
  if (p == nullptr) return ErrorResponse(404, "property not found");
  const std::string id = p->id;
  ctx.store.state().properties.erase(id);
  std::erase(ctx.store.state().property_order, id);
  return JsonResponse(200, json::object{{"id", id}});
}

}  // namespace labelport::darwin_sim
