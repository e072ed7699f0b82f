#include "api_json.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

struct TypeRow {
  int64_t id;
  const char* name;
  bool main;
};

constexpr TypeRow kTypes[] = {
    {1, "bounding_box", true},  {2, "polygon", true},
    {3, "keypoint", true},      {4, "line", true},
    {5, "ellipse", true},       {6, "tag", true},
    {7, "skeleton", true},      {8, "cuboid", true},
    {9, "mask", true},          {10, "raster_layer", true},
    {11, "text", false},        {12, "attributes", false},
    {13, "instance_id", false}, {14, "directional_vector", false},
    {15, "inference", false},   {16, "measures", false},
    {17, "table", true},        {18, "simple_table", true},
    {19, "string", true},       {20, "graph", true},
    {21, "link", true},
};

}  // namespace

const json::array& AnnotationTypesJson() {
  static const json::array* const kTable = [] {
    auto* table = new json::array();
    for (const TypeRow& row : kTypes) {
      json::object o;
      o["id"] = row.id;
      o["name"] = row.name;
      o["granularity"] = row.main ? "main" : "sub";
      table->push_back(std::move(o));
    }
    return table;
  }();
  return *kTable;
}

int64_t AnnotationTypeId(std::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (name == row.name) return row.id;
  }
  return 0;
}

std::string AnnotationTypeName(int64_t id) {
  for (const TypeRow& row : kTypes) {
    if (row.id == id) return row.name;
  }
  return "";
}

bool IsMainAnnotationType(std::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (name == row.name) return row.main;
  }
  return false;
}

json::object DatasetJson(const State& state, const Dataset& ds) {
  int64_t num_items = 0;
  int64_t num_videos = 0;  // Items whose first slot is a video.
  int64_t complete = 0;
  for (uint64_t seq : ds.item_seqs) {
    auto it = state.items.find(seq);
    if (it == state.items.end() || it->second.archived) continue;
    ++num_items;
    if (!it->second.slots.empty() && it->second.slots[0].type == "video") ++num_videos;
    if (it->second.status == "complete") ++complete;
  }
  int64_t num_classes = 0;
  for (const auto& [id, cls] : state.classes) {
    if (std::find(cls.datasets.begin(), cls.datasets.end(), ds.id) != cls.datasets.end()) {
      ++num_classes;
    }
  }
  auto team = state.teams.find(ds.team_id);
  json::object o;
  o["id"] = ds.id;
  o["name"] = ds.name;
  o["slug"] = ds.slug;
  o["archived"] = ds.archived;
  o["active"] = !ds.archived;
  o["archived_at"] = nullptr;
  o["team_id"] = ds.team_id;
  o["team_slug"] = team == state.teams.end() ? "" : team->second.slug;
  o["num_items"] = num_items;
  o["num_images"] = num_items - num_videos;
  o["num_videos"] = num_videos;
  o["num_classes"] = num_classes;
  o["progress"] = num_items == 0 ? 0.0 : static_cast<double>(complete) / num_items;
  o["inserted_at"] = ds.inserted_at;
  o["instructions"] = "";
  o["public"] = false;
  o["thumbnails"] = json::array();
  o["version"] = 2;
  o["annotation_hotkeys"] = json::object();
  json::array wf_ids;
  if (!ds.workflow_id.empty()) wf_ids.emplace_back(ds.workflow_id);
  o["workflow_ids"] = std::move(wf_ids);
  return o;
}

json::object ClassJson(const AnnotationClass& cls) {
  json::object o;
  o["id"] = cls.id;
  o["name"] = cls.name;
  o["annotation_types"] = json::array(cls.annotation_types.begin(), cls.annotation_types.end());
  json::array datasets;
  for (int64_t d : cls.datasets) {
    json::object e;
    e["id"] = d;
    datasets.push_back(std::move(e));
  }
  o["datasets"] = std::move(datasets);
  o["dataset_id"] = cls.datasets.empty() ? json::value(nullptr) : json::value(cls.datasets[0]);
  o["metadata"] = cls.metadata;
  o["description"] = cls.description;
  o["team_id"] = cls.team_id;
  o["inserted_at"] = cls.inserted_at;
  o["updated_at"] = cls.updated_at;
  o["images"] = json::array();
  o["annotation_class_image_url"] = nullptr;
  return o;
}

json::object PropertyJson(const Property& p, bool include_values) {
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["type"] = p.type;
  o["description"] = p.description;
  o["required"] = p.required;
  o["slug"] = p.name;
  o["team_id"] = p.team_id;
  o["annotation_class_id"] = ValueOrNull(p.annotation_class_id);
  o["granularity"] = p.granularity;
  o["dataset_ids"] = json::array(p.dataset_ids.begin(), p.dataset_ids.end());
  if (include_values) {
    json::array values;
    for (const PropertyValue& v : p.values) {
      values.push_back(
          json::object{{"id", v.id}, {"type", "string"}, {"value", v.value}, {"color", v.color}});
    }
    o["property_values"] = std::move(values);
  }
  if (!p.parent_property_id.empty()) {
    o["parent_property_id"] = p.parent_property_id;
    o["trigger_condition"] = p.trigger_condition;
  }
  return o;
}

json::object ItemJson(const State& state, const Item& item, bool include_workflow_data) {
  json::object o;
  o.reserve(20);
  o["id"] = item.id;
  o["name"] = item.name;
  o["path"] = item.path;
  o["status"] = item.archived ? "archived" : item.status;
  o["processing_status"] = item.processing_status;
  o["workflow_status"] = item.status;
  o["archived"] = item.archived;
  o["dataset_id"] = item.dataset_id;
  o["priority"] = item.priority;
  o["tags"] = item.tags;
  o["cursor"] = item.id;
  if (!item.layout.is_null()) o["layout"] = item.layout;
  o["uploads"] = json::array();
  json::array slots;
  json::array slot_types;
  for (const Slot& s : item.slots) {
    json::object so;
    so.reserve(12);
    so["id"] = s.id;
    so["slot_name"] = s.slot_name;
    so["type"] = s.type;
    so["file_name"] = s.file_name;
    so["size_bytes"] = s.size_bytes;
    so["upload_id"] = s.upload_id;
    so["metadata"] = s.metadata;
    if (s.fps.has_value()) so["fps"] = *s.fps;
    if (s.frame_count.has_value()) so["total_sections"] = *s.frame_count;
    so["is_external"] = false;
    so["streamable"] = false;
    so["sectionless"] = s.type == "image";
    slots.push_back(std::move(so));
    slot_types.emplace_back(s.type);
  }
  o["slots"] = std::move(slots);
  o["slot_types"] = std::move(slot_types);
  o["inserted_at"] = item.inserted_at;
  o["updated_at"] = item.updated_at;
  if (include_workflow_data) {
    auto ds = state.datasets.find(item.dataset_id);
    if (ds != state.datasets.end() && !ds->second.workflow_id.empty()) {
      json::object wd;
      wd["workflow_id"] = ds->second.workflow_id;
      if (!item.workflow_stage_id.empty()) {
        json::object stage;
        stage["stage_id"] = item.workflow_stage_id;
        json::array stages;
        stages.push_back(std::move(stage));
        wd["current_stage_instances"] = std::move(stages);
      }
      o["workflow_data"] = std::move(wd);
    }
  }
  return o;
}

json::object StoredAnnotationJson(const Annotation& a) {
  json::object o;
  o["id"] = a.id;
  o["annotation_class_id"] = a.class_id;
  o["data"] = a.data;
  o["context_keys"] =
      json::object{{"slot_names", json::array(a.slot_names.begin(), a.slot_names.end())}};
  if (!a.annotation_properties.empty()) o["annotation_properties"] = a.annotation_properties;
  if (!a.actors.empty()) o["actors"] = a.actors;
  return o;
}

json::object ExportJson(const State& state, const Export& exp, const std::string& base_url) {
  (void)state;
  json::object o;
  o["name"] = exp.name;
  o["status"] = exp.status;
  o["version"] = exp.version;
  o["format"] = exp.format.empty() ? "darwin_json_2" : exp.format;
  o["inserted_at"] = exp.inserted_at;
  o["include_authorship"] = exp.include_authorship;
  o["include_export_token"] = exp.include_export_token;
  const bool ready = exp.status == "complete" && exp.zip != nullptr;
  o["metadata"] = ready ? exp.metadata : json::object();
  o["download_url"] =
      ready ? json::value(absl::StrCat(base_url, "/_download/", exp.download_token, "/export.zip"))
            : json::value(nullptr);
  // `latest` is true only on the newest complete export of the dataset.
  bool latest = ready;
  if (ready) {
    for (const Export& other : state.exports) {
      if (other.dataset_id == exp.dataset_id && other.version > exp.version &&
          other.status == "complete" && other.zip != nullptr) {
        latest = false;
      }
    }
  }
  o["latest"] = latest;
  return o;
}

json::object WorkflowJson(const State& state, const Workflow& wf) {
  json::object o;
  o["id"] = wf.id;
  o["name"] = wf.name;
  o["team_id"] = wf.team_id;
  o["inserted_at"] = wf.inserted_at;
  o["updated_at"] = wf.inserted_at;
  o["thumbnails"] = json::array();
  if (wf.dataset_id.has_value()) {
    auto ds = state.datasets.find(*wf.dataset_id);
    json::object d;
    d["id"] = *wf.dataset_id;
    d["name"] = ds == state.datasets.end() ? "" : ds->second.name;
    d["instructions"] = "";
    o["dataset"] = std::move(d);
  } else {
    o["dataset"] = nullptr;
  }
  json::array stages;
  for (size_t i = 0; i < wf.stages.size(); ++i) {
    const WorkflowStage& s = wf.stages[i];
    json::object so;
    so.reserve(12);
    so["id"] = s.id;
    so["name"] = s.name;
    so["type"] = s.type;
    so["assignable_users"] = json::array();
    json::object config;
    if (s.type == "dataset") {
      config["dataset_id"] = ValueOrNull(wf.dataset_id);
    }
    so["config"] = std::move(config);
    json::array edges;
    if (i + 1 < wf.stages.size()) {
      edges.push_back(
          json::object{{"id", absl::StrCat(s.id.substr(0, 24), wf.stages[i + 1].id.substr(24))},
                       {"name", "default"},
                       {"source_stage_id", s.id},
                       {"target_stage_id", wf.stages[i + 1].id}});
    }
    so["edges"] = std::move(edges);
    stages.push_back(std::move(so));
  }
  o["stages"] = std::move(stages);
  return o;
}

}  // namespace labelport::darwin_sim
