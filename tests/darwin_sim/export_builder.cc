#include "export_builder.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "json_util.h"
#include "video_track.h"
#include "zip_writer.h"

namespace labelport::darwin_sim {
namespace {

constexpr char kSchemaRef[] =
    "https://darwin-public.s3.eu-west-1.amazonaws.com/darwin_json/2.0/"
    "schema.json";
constexpr char kMetadataSchemaRef[] =
    "https://darwin-public.s3.eu-west-1.amazonaws.com/darwin_json/metadata/1.0/"
    "schema.json";

const Team* TeamOf(const State& state, int64_t team_id) {
  auto it = state.teams.find(team_id);
  return it == state.teams.end() ? nullptr : &it->second;
}

std::vector<std::string> ToStrings(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const json::value& e : v->as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Bounding box enclosing every point of every path.
json::object BoundsOf(const json::array& paths) {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
  bool first = true;
  for (const json::value& path : paths) {
    if (!path.is_array()) continue;
    for (const json::value& p : path.as_array()) {
      if (!p.is_object()) continue;
      const json::value* xv = p.as_object().if_contains("x");
      const json::value* yv = p.as_object().if_contains("y");
      if (xv == nullptr || yv == nullptr) continue;
      const double x = GetNumber(*xv).value_or(0);
      const double y = GetNumber(*yv).value_or(0);
      if (first) {
        min_x = max_x = x;
        min_y = max_y = y;
        first = false;
      }
      min_x = std::min(min_x, x);
      min_y = std::min(min_y, y);
      max_x = std::max(max_x, x);
      max_y = std::max(max_y, y);
    }
  }
  json::object box;
  box["h"] = max_y - min_y;
  box["w"] = max_x - min_x;
  box["x"] = min_x;
  box["y"] = min_y;
  return box;
}

// Converts the shape and sub-annotations of one image annotation or one video
// frame from import format to Darwin JSON.
json::object ConvertShape(const State& state, const json::object& data) {
  json::object out = data;
  if (const json::value* poly = data.if_contains("polygon"); poly != nullptr && poly->is_object()) {
    const json::object& p = poly->as_object();
    json::array paths;
    if (const json::value* ps = p.if_contains("paths"); ps != nullptr && ps->is_array()) {
      paths = ps->as_array();
    } else {
      if (const json::value* path = p.if_contains("path")) paths.push_back(*path);
      if (const json::value* more = p.if_contains("additional_paths");
          more != nullptr && more->is_array()) {
        for (const json::value& extra : more->as_array()) paths.push_back(extra);
      }
    }
    json::object polygon;
    polygon["paths"] = paths;
    out["polygon"] = std::move(polygon);
    out["bounding_box"] = BoundsOf(paths);
  }
  if (const json::value* attrs = data.if_contains("attributes");
      attrs != nullptr && attrs->is_object()) {
    json::array names;
    for (const json::value& id : GetArray(attrs->as_object(), "attributes")) {
      const std::optional<int64_t> aid = AsInt(id);
      if (!aid.has_value()) continue;
      auto it = state.attributes.find(*aid);
      if (it != state.attributes.end()) names.emplace_back(it->second.name);
    }
    out["attributes"] = std::move(names);
  }
  return out;
}

// Video annotations (§7.9, §10.5): every frame of each range, stored frames as
// they are (`keyframe` true unless stored otherwise), the others held or
// interpolated (video_track.h) with `keyframe: false`; frames inside
// `hidden_areas` are left out. Masks and raster layers list their stored
// frames only, with `only_keyframes: true`. Tags carry no interpolation keys.
json::object ConvertVideo(const State& state, const json::object& data,
                          const std::string& main_type) {
  const bool only_keyframes = main_type == "mask" || main_type == "raster_layer";
  absl::StatusOr<VideoTrack> parsed = ParseVideoTrack(data);
  VideoTrack track;
  if (parsed.ok()) {
    track = std::move(*parsed);
  } else {  // Not validated when stored (older state): emit the frames as they are.
    for (const auto& kv : GetObject(data, "frames")) {
      int64_t index = 0;
      if (absl::SimpleAtoi(absl::string_view(kv.key().data(), kv.key().size()), &index) &&
          kv.value().is_object()) {
        track.frames[index] = kv.value().as_object();
      }
    }
  }
  std::map<int64_t, json::object> frames_out;
  for (const auto& [index, frame] : track.frames) {
    if (IsHidden(track, index)) continue;
    json::object f = ConvertShape(state, frame);
    if (!f.contains("keyframe")) f["keyframe"] = true;
    frames_out[index] = std::move(f);
  }
  if (!only_keyframes) {
    for (const auto& [start, end] : track.ranges) {
      for (int64_t f = start; f < end && f - start < 1000000; ++f) {
        if (frames_out.count(f) != 0 || track.frames.count(f) != 0 || IsHidden(track, f)) {
          continue;
        }
        json::object shown = ConvertShape(state, FrameAt(track, f));
        if (shown.empty()) continue;
        shown["keyframe"] = false;
        frames_out[f] = std::move(shown);
      }
    }
  }
  json::object out;
  json::object frames_json;
  for (auto& [index, frame] : frames_out) frames_json[std::to_string(index)] = std::move(frame);
  out["frames"] = std::move(frames_json);
  json::array ranges;
  for (const auto& [start, end] : track.ranges) ranges.push_back(json::array{start, end});
  out["ranges"] = std::move(ranges);
  if (only_keyframes) {
    out["only_keyframes"] = true;
  } else if (main_type != "tag") {
    out["interpolated"] = track.interpolated.value_or(false);
    out["interpolate_algorithm"] = "linear-1.1";
    out["global_sub_types"] = GetObject(data, "global_sub_types");
  }
  json::array hidden;
  for (const auto& [start, end] : track.hidden_areas) hidden.push_back(json::array{start, end});
  out["hidden_areas"] = std::move(hidden);
  return out;
}

// Rebuilds Darwin JSON `properties` from `annotation_properties`.
json::array ConvertAnnotationProperties(const State& state, const json::object& props) {
  std::vector<std::pair<std::string, const json::value*>> frames;
  for (const auto& kv : props) frames.emplace_back(std::string(kv.key()), &kv.value());
  std::sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) {
    int64_t ia = 0, ib = 0;
    const bool na = absl::SimpleAtoi(a.first, &ia), nb = absl::SimpleAtoi(b.first, &ib);
    if (na && nb) return ia < ib;
    if (na != nb) return na;
    return a.first < b.first;
  });
  json::array out;
  for (const auto& [frame_key, by_property] : frames) {
    if (!by_property->is_object()) continue;
    json::value frame_index;
    int64_t index = 0;
    if (absl::SimpleAtoi(frame_key, &index)) {
      frame_index = index;
    } else {
      frame_index = "global";
    }
    for (const auto& kv : by_property->as_object()) {
      auto prop_it = state.properties.find(std::string(kv.key()));
      if (prop_it == state.properties.end()) continue;
      const Property& prop = prop_it->second;
      const json::array values = kv.value().is_array() ? kv.value().as_array() : json::array();
      auto emit = [&](json::value value) {
        out.push_back(json::object{
            {"frame_index", frame_index}, {"name", prop.name}, {"value", std::move(value)}});
      };
      if (values.empty()) emit(nullptr);
      for (const json::value& v : values) {
        if (v.is_object() && v.as_object().contains("text")) {
          emit(v.as_object().at("text"));
          continue;
        }
        std::string value_id = v.is_string()
                                   ? std::string(v.as_string())
                                   : (v.is_object() ? GetString(v.as_object(), "id") : "");
        for (const PropertyValue& pv : prop.values) {
          if (pv.id == value_id) emit(json::value(pv.value));
        }
      }
    }
  }
  return out;
}

json::array Authors(const json::array& actors, std::string_view role) {
  json::array out;
  for (const json::value& a : actors) {
    if (!a.is_object()) continue;
    const json::object& o = a.as_object();
    if (GetString(o, "role", "annotator") != role) continue;
    const std::string email = GetString(o, "email");
    std::string full_name = GetString(o, "full_name");
    if (full_name.empty()) full_name = email.substr(0, email.find('@'));
    out.push_back(json::object{{"email", email}, {"full_name", full_name}});
  }
  return out;
}

json::object SlotToJson(const Slot& slot, const std::string& files_base) {
  json::object s;
  s["type"] = slot.type;
  s["slot_name"] = slot.slot_name;
  s["width"] = ValueOrNull(slot.width);
  s["height"] = ValueOrNull(slot.height);
  s["thumbnail_url"] = absl::StrCat(files_base, "/files/", slot.id, "/thumbnail");
  json::object source;
  source["file_name"] = slot.file_name;
  source["url"] = absl::StrCat(files_base, "/uploads/", slot.upload_id);
  json::array sources;
  sources.push_back(std::move(source));
  s["source_files"] = std::move(sources);
  if (slot.type == "video" || slot.type == "dicom") {
    s["fps"] = ValueOrNull(slot.fps);
    const int64_t frames = slot.frame_count.value_or(0);
    s["frame_count"] = frames;
    json::array urls;
    for (int64_t i = 0; i < frames; ++i) {
      urls.emplace_back(absl::StrCat(files_base, "/files/", slot.id, "/sections/", i));
    }
    s["frame_urls"] = std::move(urls);
  }
  if (!slot.metadata.empty()) s["metadata"] = slot.metadata;
  return s;
}

json::object PropertyManifest(const Property& p, const State& state) {
  json::object o;
  o["name"] = p.name;
  o["type"] = p.type;
  o["description"] = p.description;
  o["required"] = p.required;
  o["granularity"] = p.granularity;
  json::array values;
  for (const PropertyValue& v : p.values) {
    values.push_back(json::object{{"value", v.value}, {"color", v.color}});
  }
  o["property_values"] = std::move(values);
  if (!p.parent_property_id.empty()) {
    auto parent = state.properties.find(p.parent_property_id);
    if (parent != state.properties.end()) {
      o["parent_name"] = parent->second.name;
      json::object trigger;
      trigger["type"] = "any_value";
      if (p.trigger_condition.is_object()) {
        const json::object& tc = p.trigger_condition.as_object();
        trigger["type"] = GetString(tc, "type", "any_value");
        if (trigger["type"] == "value_match") {
          json::array names;
          for (const json::value& id : GetArray(tc, "property_value_ids")) {
            for (const PropertyValue& pv : parent->second.values) {
              if (id.is_string() && pv.id == id.as_string()) names.emplace_back(pv.value);
            }
          }
          trigger["values"] = std::move(names);
        }
      }
      o["trigger_condition"] = std::move(trigger);
    }
  }
  return o;
}

}  // namespace

bool ItemMatchesExportFilters(const State& state, const Item& item, const json::value& filters) {
  const std::string status = item.archived ? "archived" : item.status;
  if (!filters.is_object()) return status == "complete";
  const json::object& f = filters.as_object();
  const std::vector<std::string> statuses = ToStrings(f.if_contains("statuses"));
  const std::vector<std::string> not_statuses = ToStrings(f.if_contains("not_statuses"));
  const std::vector<std::string> item_ids = ToStrings(f.if_contains("item_ids"));
  if (item.archived && !Contains(statuses, "archived")) return false;
  if (!statuses.empty() && !Contains(statuses, status)) return false;
  if (Contains(not_statuses, status)) return false;
  if (f.contains("item_ids") && !Contains(item_ids, item.id)) return false;
  if (const json::value* ids = f.if_contains("annotation_class_ids");
      ids != nullptr && ids->is_array()) {
    bool any = false;
    for (const Annotation& a : item.annotations) {
      for (const json::value& id : ids->as_array()) {
        if (AsInt(id) == a.class_id) any = true;
      }
    }
    if (!any) return false;
  }
  (void)state;
  return true;
}

json::object AnnotationToDarwinJson(const State& state, const Item& item,
                                    const Annotation& annotation, bool include_authorship) {
  json::object out;
  out["id"] = annotation.id;
  auto cls_it = state.classes.find(annotation.class_id);
  std::string main_type;
  if (cls_it != state.classes.end()) {
    out["name"] = cls_it->second.name;
    if (!cls_it->second.annotation_types.empty()) {
      main_type = cls_it->second.annotation_types[0];
    }
  } else {
    out["name"] = "";
  }
  json::array slots(annotation.slot_names.begin(), annotation.slot_names.end());
  if (slots.empty() && !item.slots.empty()) slots.emplace_back(item.slots[0].slot_name);
  out["slot_names"] = std::move(slots);
  json::object shape;
  if (IsVideoData(annotation.data)) {
    shape = ConvertVideo(state, annotation.data, main_type);
  } else {
    shape = ConvertShape(state, annotation.data);
  }
  for (auto& kv : shape) out[kv.key()] = kv.value();
  if (!annotation.annotation_properties.empty()) {
    out["properties"] = ConvertAnnotationProperties(state, annotation.annotation_properties);
  }
  if (include_authorship) {
    out["annotators"] = Authors(annotation.actors, "annotator");
    out["reviewers"] = Authors(annotation.actors, "reviewer");
  }
  return out;
}

json::object ItemToDarwinJson(const State& state, const Item& item, const Export& options,
                              const std::string& base_url) {
  const Team* team = TeamOf(state, item.team_id);
  auto ds_it = state.datasets.find(item.dataset_id);
  const std::string team_slug = team == nullptr ? "" : team->slug;
  const std::string files_base = absl::StrCat(base_url, "/api/v2/teams/", team_slug);

  json::object dataset;
  if (ds_it != state.datasets.end()) {
    dataset["name"] = ds_it->second.name;
    dataset["slug"] = ds_it->second.slug;
  }
  dataset["dataset_management_url"] =
      absl::StrCat(base_url, "/datasets/", item.dataset_id, "/dataset-management");
  json::object team_json;
  team_json["name"] = team == nullptr ? "" : team->name;
  team_json["slug"] = team_slug;
  json::object source_info;
  source_info["item_id"] = item.id;
  source_info["dataset"] = std::move(dataset);
  source_info["team"] = std::move(team_json);
  source_info["workview_url"] =
      absl::StrCat(base_url, "/workview?dataset=", item.dataset_id, "&item=", item.id);

  json::array slots;
  for (const Slot& slot : item.slots) slots.push_back(SlotToJson(slot, files_base));
  json::object item_json;
  item_json["name"] = item.name;
  item_json["path"] = item.path;
  item_json["source_info"] = std::move(source_info);
  item_json["slots"] = std::move(slots);

  std::vector<int64_t> class_filter;
  if (const json::value* ids = options.annotation_filters.if_contains("annotation_class_ids");
      ids != nullptr && ids->is_array()) {
    for (const json::value& id : ids->as_array()) {
      if (std::optional<int64_t> v = AsInt(id)) class_filter.push_back(*v);
    }
  }
  json::array annotations;
  for (const Annotation& a : item.annotations) {
    if (!class_filter.empty() &&
        std::find(class_filter.begin(), class_filter.end(), a.class_id) == class_filter.end()) {
      continue;
    }
    annotations.push_back(AnnotationToDarwinJson(state, item, a, options.include_authorship));
  }

  json::array properties;
  for (const std::string& pid : state.property_order) {
    auto values = item.item_properties.find(pid);
    if (values == item.item_properties.end()) continue;
    const Property& prop = state.properties.at(pid);
    for (const json::value& v : values->second) {
      json::object entry;
      entry["name"] = prop.name;
      if (v.is_object() && v.as_object().contains("text")) {
        entry["value"] = v.as_object().at("text");
      } else {
        const std::string vid = v.is_object() ? GetString(v.as_object(), "id") : "";
        entry["value"] = nullptr;
        for (const PropertyValue& pv : prop.values) {
          if (pv.id == vid) entry["value"] = pv.value;
        }
      }
      properties.push_back(std::move(entry));
    }
  }

  json::object doc;
  doc["version"] = "2.0";
  doc["schema_ref"] = kSchemaRef;
  doc["item"] = std::move(item_json);
  doc["annotations"] = std::move(annotations);
  doc["properties"] = std::move(properties);
  return doc;
}

absl::StatusOr<BuiltExport> BuildExport(const State& state, const Export& exp) {
  if (!exp.format.empty() && exp.format != "darwin_json_2") {
    return absl::InvalidArgumentError(
        absl::StrCat("export format ", exp.format, " is not supported by darwin-sim"));
  }
  auto ds_it = state.datasets.find(exp.dataset_id);
  if (ds_it == state.datasets.end()) return absl::NotFoundError("export dataset is gone");
  const Dataset& ds = ds_it->second;

  std::vector<ZipEntry> entries;
  std::set<std::string> used_names;
  std::map<int64_t, std::string> classes_present;
  int64_t num_items = 0;
  for (uint64_t seq : ds.item_seqs) {
    auto it = state.items.find(seq);
    if (it == state.items.end()) continue;
    const Item& item = it->second;
    if (!ItemMatchesExportFilters(state, item, exp.filters)) continue;
    ++num_items;
    json::object doc = ItemToDarwinJson(state, item, exp, exp.base_url);
    for (const Annotation& a : item.annotations) {
      auto cls = state.classes.find(a.class_id);
      if (cls != state.classes.end()) classes_present[a.class_id] = cls->second.name;
    }
    const size_t dot = item.name.rfind('.');
    const std::string stem =
        dot == std::string::npos || dot == 0 ? item.name : item.name.substr(0, dot);
    std::string name = absl::StrCat(stem, ".json");
    for (int n = 1; used_names.count(name) != 0; ++n) name = absl::StrCat(stem, "_", n, ".json");
    used_names.insert(name);
    entries.push_back(ZipEntry{name, json::serialize(doc)});
  }

  // .v7/metadata.json when any property applies to the dataset's classes or
  // items.
  json::array class_manifest;
  for (const auto& [id, cls] : state.classes) {
    if (cls.team_id != ds.team_id) continue;
    const bool in_dataset =
        std::find(cls.datasets.begin(), cls.datasets.end(), ds.id) != cls.datasets.end() ||
        classes_present.count(id) != 0;
    if (!in_dataset) continue;
    json::array props;
    for (const std::string& pid : state.property_order) {
      const Property& p = state.properties.at(pid);
      if (p.annotation_class_id == id) props.push_back(PropertyManifest(p, state));
    }
    if (props.empty()) continue;
    json::object c;
    c["name"] = cls.name;
    c["type"] = cls.annotation_types.empty() ? "" : cls.annotation_types[0];
    c["description"] = nullptr;
    c["color"] = GetString(cls.metadata, "_color", "auto");
    json::array subs;
    for (size_t i = 1; i < cls.annotation_types.size(); ++i) {
      subs.emplace_back(cls.annotation_types[i]);
    }
    c["sub_types"] = std::move(subs);
    c["properties"] = std::move(props);
    class_manifest.push_back(std::move(c));
  }
  json::array item_props;
  for (const std::string& pid : state.property_order) {
    const Property& p = state.properties.at(pid);
    if (p.team_id != ds.team_id || p.granularity != "item") continue;
    if (!p.dataset_ids.empty() &&
        std::find(p.dataset_ids.begin(), p.dataset_ids.end(), ds.id) == p.dataset_ids.end()) {
      continue;
    }
    item_props.push_back(PropertyManifest(p, state));
  }
  if (!class_manifest.empty() || !item_props.empty()) {
    json::object manifest;
    manifest["version"] = "1.0";
    manifest["schema_ref"] = kMetadataSchemaRef;
    manifest["classes"] = std::move(class_manifest);
    manifest["properties"] = std::move(item_props);
    entries.push_back(ZipEntry{".v7/metadata.json", json::serialize(manifest)});
  }

  absl::StatusOr<std::string> zip = BuildZip(entries);
  if (!zip.ok()) return zip.status();
  BuiltExport out;
  out.zip = std::move(*zip);
  out.metadata["num_images"] = num_items;
  json::array classes;
  for (const auto& [id, name] : classes_present) {
    classes.push_back(json::object{{"id", id}, {"name", name}});
  }
  out.metadata["annotation_classes"] = std::move(classes);
  return out;
}

}  // namespace labelport::darwin_sim
