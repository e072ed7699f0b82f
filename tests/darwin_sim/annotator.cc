#include "annotator.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

// Converts a Darwin-JSON-like shape to import format.
absl::StatusOr<json::value> ShapeToImport(std::string_view type, const json::value& data) {
  if (type == "tag") return json::object();
  if (!data.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data for ", std::string(type), " must be an object"));
  }
  const json::object& d = data.as_object();
  if (type == "polygon") {
    json::array paths = GetArray(d, "paths");
    if (paths.empty() && d.contains("path")) paths.push_back(d.at("path"));
    if (paths.empty() || !paths[0].is_array()) {
      return absl::InvalidArgumentError("polygon needs paths: [[{x, y}, ...], ...]");
    }
    json::object p;
    p["path"] = paths[0];
    if (paths.size() > 1) {
      json::array more(paths.begin() + 1, paths.end());
      p["additional_paths"] = std::move(more);
    }
    return p;
  }
  if (type == "bounding_box") {
    for (const char* k : {"x", "y", "w", "h"}) {
      if (!d.contains(k) || !GetNumber(d.at(k)).has_value()) {
        return absl::InvalidArgumentError("bounding_box needs numeric x, y, w, h");
      }
    }
  } else if (type == "keypoint") {
    if (!d.contains("x") || !d.contains("y")) {
      return absl::InvalidArgumentError("keypoint needs x and y");
    }
  } else if (type == "line") {
    if (GetArray(d, "path").size() < 2) {
      return absl::InvalidArgumentError("line needs a path of at least 2 points");
    }
  }
  return data;
}

// Darwin-JSON-like view of a stored shape.
json::value ShapeView(std::string_view type, const json::object& stored) {
  const json::value* v = stored.if_contains(type);
  if (v == nullptr) return nullptr;
  if (type == "polygon" && v->is_object()) {
    json::array paths;
    if (const json::value* p = v->as_object().if_contains("path")) paths.push_back(*p);
    for (const json::value& more : GetArray(v->as_object(), "additional_paths")) {
      paths.push_back(more);
    }
    json::object out;
    out["paths"] = std::move(paths);
    return out;
  }
  return *v;
}

AnnotationClass& ClassFor(Store& store, const Item& item, const std::string& name,
                          const std::string& type) ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  AnnotationClass* cls = store.FindClassLocked(item.team_id, name, type);
  if (cls == nullptr) cls = &store.NewClassLocked(item.team_id, name, {type});
  if (std::find(cls->datasets.begin(), cls->datasets.end(), item.dataset_id) ==
      cls->datasets.end()) {
    cls->datasets.push_back(item.dataset_id);
  }
  return *cls;
}

void EnableSubType(AnnotationClass& cls, const char* sub) {
  if (std::find(cls.annotation_types.begin(), cls.annotation_types.end(), sub) ==
      cls.annotation_types.end()) {
    cls.annotation_types.emplace_back(sub);
  }
}

// Applies {"name": value | [values] | null} to `a`, creating properties
// (single_select, multi_select for lists; section granularity) as needed.
void ApplyProperties(Store& store, AnnotationClass& cls, Annotation& a, const json::object& props)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  State& state = store.state();
  for (const auto& kv : props) {
    const std::string name(kv.key());
    Property* prop = nullptr;
    for (auto& [id, p] : state.properties) {
      if (p.team_id == cls.team_id && p.name == name && p.annotation_class_id == cls.id) {
        prop = &p;
      }
    }
    std::vector<std::string> wanted;
    if (kv.value().is_array()) {
      for (const json::value& v : kv.value().as_array()) {
        if (v.is_string()) wanted.emplace_back(v.as_string());
      }
    } else if (kv.value().is_string()) {
      wanted.emplace_back(kv.value().as_string());
    }
    if (prop == nullptr) {
      Property p;
      p.id = NewUuid();
      p.team_id = cls.team_id;
      p.name = name;
      p.type = kv.value().is_array() ? "multi_select" : "single_select";
      p.granularity = "section";
      p.annotation_class_id = cls.id;
      state.property_order.push_back(p.id);
      prop = &(state.properties[p.id] = std::move(p));
    }
    const std::string frame = prop->granularity == "annotation" ? "global" : "0";
    json::array values;
    for (const std::string& w : wanted) {
      if (prop->type == "text") {
        json::object t;
        t["text"] = w;
        values.push_back(std::move(t));
        continue;
      }
      auto pv = std::find_if(prop->values.begin(), prop->values.end(),
                             [&](const PropertyValue& v) { return v.value == w; });
      if (pv == prop->values.end()) {
        prop->values.push_back(PropertyValue{NewUuid(), w, "rgba(0,128,255,1.0)"});
        pv = prop->values.end() - 1;
      }
      values.emplace_back(pv->id);
    }
    json::object& by_frame = a.annotation_properties[frame].is_object()
                                 ? a.annotation_properties[frame].as_object()
                                 : a.annotation_properties[frame].emplace_object();
    by_frame[prop->id] = std::move(values);
  }
}

void ApplyAuthor(Annotation& a, const json::object& req) {
  const json::object author = GetObject(req, "author");
  const std::string email = GetString(author, "email");
  if (email.empty()) return;
  const std::string role = GetString(req, "role", "annotator");
  for (const json::value& actor : a.actors) {
    if (actor.is_object() && GetString(actor.as_object(), "email") == email &&
        GetString(actor.as_object(), "role") == role) {
      return;
    }
  }
  json::object actor;
  actor["email"] = email;
  actor["role"] = role;
  actor["full_name"] = GetString(author, "full_name", email.substr(0, email.find('@')));
  a.actors.push_back(std::move(actor));
}

// Applies the shared optional fields (data, instance_id, text, properties,
// author) of an add or edit request.
absl::Status ApplyFields(Store& store, AnnotationClass& cls, Annotation& a, const json::object& req)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  const std::string type = cls.annotation_types.empty() ? "" : cls.annotation_types[0];
  if (const json::value* data = req.if_contains("data")) {
    absl::StatusOr<json::value> shape = ShapeToImport(type, *data);
    if (!shape.ok()) return shape.status();
    a.data[type] = std::move(*shape);
  } else if (type == "tag" && !a.data.contains("tag")) {
    a.data["tag"] = json::object();
  }
  if (const json::value* id = req.if_contains("instance_id")) {
    if (id->is_null()) {
      a.data.erase("instance_id");
    } else {
      json::object v;
      v["value"] = *id;
      a.data["instance_id"] = std::move(v);
      EnableSubType(cls, "instance_id");
    }
  }
  if (const json::value* text = req.if_contains("text")) {
    if (text->is_null()) {
      a.data.erase("text");
    } else {
      json::object v;
      v["text"] = *text;
      a.data["text"] = std::move(v);
      EnableSubType(cls, "text");
    }
  }
  if (const json::value* props = req.if_contains("properties");
      props != nullptr && props->is_object()) {
    ApplyProperties(store, cls, a, props->as_object());
  }
  ApplyAuthor(a, req);
  return absl::OkStatus();
}

}  // namespace

json::object AnnotationView(const State& state, const Annotation& a) {
  json::object o;
  o["id"] = a.id;
  o["class_id"] = a.class_id;
  std::string type;
  auto cls = state.classes.find(a.class_id);
  if (cls != state.classes.end()) {
    o["class_name"] = cls->second.name;
    if (!cls->second.annotation_types.empty()) type = cls->second.annotation_types[0];
  }
  o["type"] = type;
  o["data"] = ShapeView(type, a.data);
  json::array slots;
  for (const std::string& s : a.slot_names) slots.emplace_back(s);
  o["slot_names"] = std::move(slots);
  if (const json::value* id = a.data.if_contains("instance_id");
      id != nullptr && id->is_object() && id->as_object().contains("value")) {
    o["instance_id"] = id->as_object().at("value");
  }
  if (const json::value* t = a.data.if_contains("text");
      t != nullptr && t->is_object() && t->as_object().contains("text")) {
    o["text"] = t->as_object().at("text");
  }
  json::object props;
  for (const auto& frame : a.annotation_properties) {
    if (!frame.value().is_object()) continue;
    for (const auto& kv : frame.value().as_object()) {
      auto p = state.properties.find(std::string(kv.key()));
      if (p == state.properties.end() || !kv.value().is_array()) continue;
      json::array names;
      for (const json::value& v : kv.value().as_array()) {
        if (v.is_object() && v.as_object().contains("text")) {
          names.push_back(v.as_object().at("text"));
          continue;
        }
        for (const PropertyValue& pv : p->second.values) {
          if (v.is_string() && pv.id == v.as_string()) names.emplace_back(pv.value);
        }
      }
      if (p->second.type == "multi_select") {
        props[p->second.name] = std::move(names);
      } else {
        props[p->second.name] = names.empty() ? json::value(nullptr) : names[0];
      }
    }
  }
  o["properties"] = std::move(props);
  json::array authors;
  for (const json::value& actor : a.actors) {
    if (!actor.is_object()) continue;
    json::object au;
    au["email"] = GetString(actor.as_object(), "email");
    au["full_name"] = GetString(actor.as_object(), "full_name");
    au["role"] = GetString(actor.as_object(), "role", "annotator");
    authors.push_back(std::move(au));
  }
  o["authors"] = std::move(authors);
  o["stored"] = StoredAnnotationJson(a);
  return o;
}

absl::StatusOr<json::object> AddAnnotationLocked(Store& store, Item& item,
                                                 const json::object& req) {
  const std::string class_name = GetString(req, "class_name");
  const std::string type = GetString(req, "type");
  if (class_name.empty()) return absl::InvalidArgumentError("class_name is required");
  if (!IsMainAnnotationType(type)) {
    return absl::InvalidArgumentError(absl::StrCat("type '", type, "' is not a main type"));
  }
  if (type != "tag" && !req.contains("data")) {
    return absl::InvalidArgumentError("data is required");
  }
  AnnotationClass& cls = ClassFor(store, item, class_name, type);
  Annotation a;
  a.id = NewUuid();
  a.class_id = cls.id;
  std::string slot = GetString(req, "slot_name");
  if (slot.empty() && !item.slots.empty()) slot = item.slots[0].slot_name;
  if (!slot.empty()) a.slot_names.push_back(slot);
  if (absl::Status s = ApplyFields(store, cls, a, req); !s.ok()) return s;
  item.annotations.push_back(std::move(a));
  item.updated_at = NowTimestamp();
  return AnnotationView(store.state(), item.annotations.back());
}

absl::StatusOr<json::object> EditAnnotationLocked(Store& store, Item& item,
                                                  const std::string& annotation_id,
                                                  const json::object& req) {
  auto it = std::find_if(item.annotations.begin(), item.annotations.end(),
                         [&](const Annotation& a) { return a.id == annotation_id; });
  if (it == item.annotations.end()) {
    return absl::NotFoundError(absl::StrCat("annotation ", annotation_id, " not found"));
  }
  Annotation edited = *it;
  AnnotationClass* cls = store.ClassLocked(item.team_id, edited.class_id);
  if (cls == nullptr) return absl::NotFoundError("annotation class is gone");
  const std::string type = cls->annotation_types.empty() ? "" : cls->annotation_types[0];
  const std::string new_name = GetString(req, "class_name");
  if (!new_name.empty() && new_name != cls->name) {
    // Properties belong to a class: carry the values over by name.
    const json::value carried = AnnotationView(store.state(), edited)["properties"];
    cls = &ClassFor(store, item, new_name, type);
    edited.class_id = cls->id;
    edited.annotation_properties.clear();
    if (carried.is_object()) ApplyProperties(store, *cls, edited, carried.as_object());
  }
  if (absl::Status s = ApplyFields(store, *cls, edited, req); !s.ok()) return s;
  *it = std::move(edited);
  item.updated_at = NowTimestamp();
  return AnnotationView(store.state(), *it);
}

absl::Status DeleteAnnotationLocked(Store& store, Item& item, const std::string& annotation_id) {
  (void)store;
  const size_t before = item.annotations.size();
  std::erase_if(item.annotations, [&](const Annotation& a) { return a.id == annotation_id; });
  if (item.annotations.size() == before) {
    return absl::NotFoundError(absl::StrCat("annotation ", annotation_id, " not found"));
  }
  item.updated_at = NowTimestamp();
  return absl::OkStatus();
}

}  // namespace labelport::darwin_sim
