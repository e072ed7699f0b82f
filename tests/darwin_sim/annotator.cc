#include "annotator.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "raster_masks.h"
#include "track_edits.h"
#include "video_track.h"

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
  } else if (type == "raster_layer") {
    if (absl::Status s = ValidateRasterLayer(data, std::nullopt); !s.ok()) return s;
  } else if (type == "mask") {
    if (absl::Status s = ValidateMask(data); !s.ok()) return s;
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
// Section-level values are set at frame `section_frame` ("0" for images).
void ApplyProperties(Store& store, AnnotationClass& cls, Annotation& a, const json::object& props,
                     const std::string& section_frame = "0")
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
    const std::string frame = prop->granularity == "annotation" ? "global" : section_frame;
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

// A stored frame's main shape from Darwin-JSON-like frame data.
absl::StatusOr<json::value> FrameShape(std::string_view type, const json::value& data) {
  if (type == "tag") return json::object();
  return ShapeToImport(type, data);
}

absl::StatusOr<int64_t> FrameIndex(std::string_view key) {
  int64_t index = -1;
  if (!absl::SimpleAtoi(absl::string_view(key.data(), key.size()), &index) || index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("frames keys must be 0-based frame indices; got \"", std::string(key), "\""));
  }
  return index;
}

// [start, end) pairs (`inclusive`: [start, end]) from a request field.
absl::StatusOr<std::vector<FrameSpan>> SpansField(const json::value& v, const char* key,
                                                  bool inclusive) {
  json::object probe;
  probe["frames"] = json::object();
  probe[inclusive ? "hidden_areas" : "ranges"] = v;
  absl::StatusOr<VideoTrack> parsed = ParseVideoTrack(probe);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", parsed.status().message()));
  }
  return inclusive ? parsed->hidden_areas : parsed->ranges;
}

void SetFrameSub(VideoTrack& track, const char* sub, const json::value* value) {
  for (auto& [index, frame] : track.frames) {
    if (value->is_null()) {
      frame.erase(sub);
    } else {
      json::object v;
      v[std::string_view(sub) == "text" ? "text" : "value"] = *value;
      frame[sub] = std::move(v);
    }
  }
}

// {"name": value | [values]} of the property values in `by_property`
// ({property id: [value ids | {text}]}).
json::object NamedValues(const State& state, const json::value& by_property) {
  json::object props;
  if (!by_property.is_object()) return props;
  for (const auto& kv : by_property.as_object()) {
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
  return props;
}

// The video fields of an add or edit request on a video track: `ranges`
// (replace; keyframes outside are dropped, range starts keyframed), `frames`
// ({index: shape | null}: set or remove keyframes; a keyframe outside every
// range extends the nearest one), `hidden_areas`, `interpolated`, and
// `instance_id`/`text` (on every keyframe), `properties` (section values at
// `properties_frame`, default the first keyframe), `author`.
absl::Status ApplyVideoFields(Store& store, AnnotationClass& cls, Annotation& a,
                              const json::object& req) ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  const std::string type = cls.annotation_types.empty() ? "" : cls.annotation_types[0];
  if (req.contains("data")) {
    return absl::InvalidArgumentError(
        "video tracks take frames: {\"<frame index>\": <shape>}, not data");
  }
  absl::StatusOr<VideoTrack> parsed = ParseVideoTrack(a.data);
  if (!parsed.ok()) return parsed.status();
  VideoTrack track = std::move(*parsed);
  if (const json::value* ranges = req.if_contains("ranges")) {
    absl::StatusOr<std::vector<FrameSpan>> spans = SpansField(*ranges, "ranges", false);
    if (!spans.ok()) return spans.status();
    if (absl::Status s = ReplaceRanges(track, std::move(*spans)); !s.ok()) return s;
  }
  if (const json::value* frames = req.if_contains("frames")) {
    if (!frames->is_object()) {
      return absl::InvalidArgumentError("frames must be an object {\"<frame index>\": <shape>}");
    }
    for (const auto& kv : frames->as_object()) {
      absl::StatusOr<int64_t> index =
          FrameIndex(std::string_view(kv.key().data(), kv.key().size()));
      if (!index.ok()) return index.status();
      if (kv.value().is_null()) {
        track.frames.erase(*index);
        continue;
      }
      absl::StatusOr<json::value> shape = FrameShape(type, kv.value());
      if (!shape.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("frame ", *index, ": ", shape.status().message()));
      }
      SetKeyframe(track, *index, type, std::move(*shape));
    }
  }
  if (track.frames.empty()) {
    return absl::InvalidArgumentError("a video track needs at least one keyframe");
  }
  if (const json::value* hidden = req.if_contains("hidden_areas")) {
    absl::StatusOr<std::vector<FrameSpan>> spans = SpansField(*hidden, "hidden_areas", true);
    if (!spans.ok()) return spans.status();
    track.hidden_areas = std::move(*spans);
  }
  if (const json::value* interpolated = req.if_contains("interpolated")) {
    if (!interpolated->is_bool()) return absl::InvalidArgumentError("interpolated must be a bool");
    track.interpolated = interpolated->as_bool();
  }
  if (const json::value* id = req.if_contains("instance_id")) {
    SetFrameSub(track, "instance_id", id);
    if (!id->is_null()) EnableSubType(cls, "instance_id");
  }
  if (const json::value* text = req.if_contains("text")) {
    SetFrameSub(track, "text", text);
    if (!text->is_null()) EnableSubType(cls, "text");
  }
  a.data = VideoTrackToData(track);
  RealignSectionProperties(a.annotation_properties, track);
  if (const json::value* props = req.if_contains("properties");
      props != nullptr && props->is_object()) {
    std::optional<int64_t> at = GetInt(req, "properties_frame");
    const int64_t frame = at.value_or(track.frames.begin()->first);
    ApplyProperties(store, cls, a, props->as_object(), std::to_string(frame));
  }
  ApplyAuthor(a, req);
  return absl::OkStatus();
}

// The track of an add request: keyframes from `frames` ({index: shape}),
// `ranges` (default [first keyframe, last keyframe + 1)), `interpolated`
// (default true; absent for tags, masks and raster layers).
absl::StatusOr<VideoTrack> NewVideoTrack(const std::string& type, const json::object& req) {
  const json::value& frames = req.at("frames");
  if (!frames.is_object() || frames.as_object().empty()) {
    return absl::InvalidArgumentError(
        "frames must be an object {\"<frame index>\": <shape>} with at least one keyframe");
  }
  VideoTrack track;
  for (const auto& kv : frames.as_object()) {
    absl::StatusOr<int64_t> index = FrameIndex(std::string_view(kv.key().data(), kv.key().size()));
    if (!index.ok()) return index.status();
    absl::StatusOr<json::value> shape = FrameShape(type, kv.value());
    if (!shape.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame ", *index, ": ", shape.status().message()));
    }
    json::object frame;
    frame[type] = std::move(*shape);
    frame["keyframe"] = true;
    track.frames[*index] = std::move(frame);
  }
  if (const json::value* ranges = req.if_contains("ranges")) {
    absl::StatusOr<std::vector<FrameSpan>> spans = SpansField(*ranges, "ranges", false);
    if (!spans.ok()) return spans.status();
    track.ranges = JoinRanges(std::move(*spans));
    for (const auto& [index, frame] : track.frames) {
      if (!RangeOf(track, index).has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("keyframe ", index, " lies outside every range"));
      }
    }
    KeyframeRangeStarts(track, track);
  } else {
    track.ranges.emplace_back(track.frames.begin()->first, track.frames.rbegin()->first + 1);
  }
  if (type != "tag" && type != "mask" && type != "raster_layer") {
    track.interpolated = GetBool(req, "interpolated", true);
  }
  return track;
}

// Applies the shared optional fields (data, instance_id, text, properties,
// author) of an add or edit request.
absl::Status ApplyFields(Store& store, AnnotationClass& cls, Annotation& a, const json::object& req)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  const std::string type = cls.annotation_types.empty() ? "" : cls.annotation_types[0];
  if (IsVideoData(a.data)) return ApplyVideoFields(store, cls, a, req);
  if (req.contains("frames") || req.contains("ranges")) {
    return absl::InvalidArgumentError(
        "frames/ranges edit video annotations only; this annotation is not a video track");
  }
  if (const json::value* data = req.if_contains("data")) {
    absl::StatusOr<json::value> shape = ShapeToImport(type, *data);
    if (!shape.ok()) return shape.status();
    a.data[type] = std::move(*shape);
  } else if (type == "tag" && !a.data.contains("tag")) {
    a.data["tag"] = json::object();
  }
  // Sub-types given as a plain value: null removes one, a value sets
  // data[sub_type] = {member: value} and enables the sub-type on the class.
  for (const auto& [sub_type, member] :
       {std::pair{"instance_id", "value"}, std::pair{"text", "text"}}) {
    const json::value* value = req.if_contains(sub_type);
    if (value == nullptr) continue;
    if (value->is_null()) {
      a.data.erase(sub_type);
      continue;
    }
    a.data[sub_type] = json::object{{member, *value}};
    EnableSubType(cls, sub_type);
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
  // Sub-annotations live on the shape (images) or on each keyframe (video).
  const json::object* subs = &a.data;
  absl::StatusOr<VideoTrack> track = absl::InvalidArgumentError("not a video");
  if (IsVideoData(a.data)) track = ParseVideoTrack(a.data);
  if (track.ok()) {
    o["data"] = nullptr;
    json::object frames;
    for (const auto& [index, frame] : track->frames) {
      frames[std::to_string(index)] =
          type == "tag" ? json::value(json::object()) : ShapeView(type, frame);
    }
    o["frames"] = std::move(frames);
    json::array ranges;
    for (const auto& [start, end] : track->ranges) ranges.push_back(json::array{start, end});
    o["ranges"] = std::move(ranges);
    json::array hidden;
    for (const auto& [start, end] : track->hidden_areas) hidden.push_back(json::array{start, end});
    o["hidden_areas"] = std::move(hidden);
    o["interpolated"] = ValueOrNull(track->interpolated);
    if (!track->frames.empty()) subs = &track->frames.begin()->second;
  } else {
    o["data"] = ShapeView(type, a.data);
  }
  o["slot_names"] = json::array(a.slot_names.begin(), a.slot_names.end());
  if (const json::value* id = subs->if_contains("instance_id");
      id != nullptr && id->is_object() && id->as_object().contains("value")) {
    o["instance_id"] = id->as_object().at("value");
  }
  if (const json::value* t = subs->if_contains("text");
      t != nullptr && t->is_object() && t->as_object().contains("text")) {
    o["text"] = t->as_object().at("text");
  }
  json::object props;
  json::object frame_props;
  for (const auto& frame : a.annotation_properties) {
    json::object named = NamedValues(state, frame.value());
    for (const auto& kv : named) props[kv.key()] = kv.value();
    frame_props[frame.key()] = std::move(named);
  }
  o["properties"] = std::move(props);
  if (track.ok()) o["frame_properties"] = std::move(frame_props);
  json::array authors;
  for (const json::value& actor : a.actors) {
    if (!actor.is_object()) continue;
    authors.push_back(json::object{{"email", GetString(actor.as_object(), "email")},
                                   {"full_name", GetString(actor.as_object(), "full_name")},
                                   {"role", GetString(actor.as_object(), "role", "annotator")}});
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
  const bool video = req.contains("frames");
  if (type != "tag" && !video && !req.contains("data")) {
    return absl::InvalidArgumentError("data (or frames, for a video track) is required");
  }
  AnnotationClass& cls = ClassFor(store, item, class_name, type);
  Annotation a;
  a.id = NewUuid();
  a.class_id = cls.id;
  std::string slot = GetString(req, "slot_name");
  if (slot.empty() && !item.slots.empty()) slot = item.slots[0].slot_name;
  if (!slot.empty()) a.slot_names.push_back(slot);
  if (video) {
    absl::StatusOr<VideoTrack> track = NewVideoTrack(type, req);
    if (!track.ok()) return track.status();
    a.data = VideoTrackToData(*track);
    json::object rest = req;
    rest.erase("frames");
    rest.erase("ranges");
    if (absl::Status s = ApplyVideoFields(store, cls, a, rest); !s.ok()) return s;
  } else if (absl::Status s = ApplyFields(store, cls, a, req); !s.ok()) {
    return s;
  }
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
    // Properties belong to a class: carry the values over by name, frame by
    // frame.
    std::vector<std::pair<std::string, json::object>> carried;
    for (const auto& frame : edited.annotation_properties) {
      carried.emplace_back(std::string(frame.key()), NamedValues(store.state(), frame.value()));
    }
    cls = &ClassFor(store, item, new_name, type);
    edited.class_id = cls->id;
    edited.annotation_properties.clear();
    for (const auto& [frame, named] : carried) {
      ApplyProperties(store, *cls, edited, named, frame == "global" ? "0" : frame);
    }
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

namespace {

Annotation* FindAnnotation(Item& item, const std::string& id) {
  auto it = std::find_if(item.annotations.begin(), item.annotations.end(),
                         [&](const Annotation& a) { return a.id == id; });
  return it == item.annotations.end() ? nullptr : &*it;
}

absl::StatusOr<VideoTrack> TrackOf(const Annotation& a) {
  if (!IsVideoData(a.data)) {
    return absl::InvalidArgumentError(absl::StrCat("annotation ", a.id, " is not a video track"));
  }
  absl::StatusOr<VideoTrack> track = ParseVideoTrack(a.data);
  if (!track.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("annotation ", a.id, ": ", track.status().message()));
  }
  return track;
}

}  // namespace

absl::StatusOr<json::object> SplitTrackLocked(Store& store, Item& item,
                                              const std::string& annotation_id, int64_t frame) {
  Annotation* original = FindAnnotation(item, annotation_id);
  if (original == nullptr) {
    return absl::NotFoundError(absl::StrCat("annotation ", annotation_id, " not found"));
  }
  absl::StatusOr<VideoTrack> track = TrackOf(*original);
  if (!track.ok()) return track.status();
  absl::StatusOr<SplitTracks> halves = SplitTrack(*track, frame);
  if (!halves.ok()) return halves.status();
  Annotation first = *original;
  Annotation second = *original;
  second.id = NewUuid();
  first.data = VideoTrackToData(halves->before);
  second.data = VideoTrackToData(halves->after);
  const int64_t after_start =
      halves->after.frames.empty() ? frame : halves->after.frames.begin()->first;
  std::tie(first.annotation_properties, second.annotation_properties) =
      SplitSectionProperties(original->annotation_properties, frame, after_start);
  RealignSectionProperties(first.annotation_properties, halves->before);
  RealignSectionProperties(second.annotation_properties, halves->after);
  const size_t position = static_cast<size_t>(original - item.annotations.data());
  item.annotations[position] = std::move(first);
  item.annotations.insert(item.annotations.begin() + position + 1, std::move(second));
  item.updated_at = NowTimestamp();
  json::object out;
  out["before"] = AnnotationView(store.state(), item.annotations[position]);
  out["after"] = AnnotationView(store.state(), item.annotations[position + 1]);
  return out;
}

absl::StatusOr<json::object> MergeTracksLocked(Store& store, Item& item,
                                               const std::string& annotation_id,
                                               const std::string& other_id) {
  if (annotation_id == other_id) {
    return absl::InvalidArgumentError("cannot merge an annotation with itself");
  }
  Annotation* keep = FindAnnotation(item, annotation_id);
  Annotation* other = FindAnnotation(item, other_id);
  if (keep == nullptr || other == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("annotation ", keep == nullptr ? annotation_id : other_id, " not found"));
  }
  absl::StatusOr<VideoTrack> mine = TrackOf(*keep);
  if (!mine.ok()) return mine.status();
  absl::StatusOr<VideoTrack> theirs = TrackOf(*other);
  if (!theirs.ok()) return theirs.status();
  const AnnotationClass* keep_cls = store.ClassLocked(item.team_id, keep->class_id);
  const AnnotationClass* other_cls = store.ClassLocked(item.team_id, other->class_id);
  const std::string keep_type = keep_cls == nullptr || keep_cls->annotation_types.empty()
                                    ? ""
                                    : keep_cls->annotation_types[0];
  const std::string other_type = other_cls == nullptr || other_cls->annotation_types.empty()
                                     ? ""
                                     : other_cls->annotation_types[0];
  if (keep_type != other_type) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge a ", other_type, " track into a ", keep_type, " track"));
  }
  if (keep->slot_names != other->slot_names) {
    return absl::InvalidArgumentError("cannot merge tracks on different slots");
  }
  const VideoTrack merged = MergeTracks(*mine, *theirs);
  keep->data = VideoTrackToData(merged);
  for (const auto& kv : other->annotation_properties) {
    if (!keep->annotation_properties.contains(kv.key())) {
      keep->annotation_properties[kv.key()] = kv.value();
    }
  }
  RealignSectionProperties(keep->annotation_properties, merged);
  for (const json::value& actor : other->actors) {
    if (std::find(keep->actors.begin(), keep->actors.end(), actor) == keep->actors.end()) {
      keep->actors.push_back(actor);
    }
  }
  const std::string kept_id = keep->id;
  std::erase_if(item.annotations, [&](const Annotation& a) { return a.id == other_id; });
  item.updated_at = NowTimestamp();
  return AnnotationView(store.state(), *FindAnnotation(item, kept_id));
}

}  // namespace labelport::darwin_sim
