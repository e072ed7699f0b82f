#include "store.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "export_builder.h"
#include "ids.h"
#include "media_probe.h"

namespace labelport::darwin_sim {
namespace {

SteadyTime AfterMs(int64_t ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
}

// The entry of `map` under the key `index` holds for `key`; null when
// either has none.
template <typename Index, typename Map>
typename Map::mapped_type* FindThrough(const Index& index, Map& map, std::string_view key) {
  auto it = index.find(std::string(key));
  if (it == index.end()) return nullptr;
  auto found = map.find(it->second);
  return found == map.end() ? nullptr : &found->second;
}

}  // namespace

std::string Slugify(std::string_view name) {
  std::string out;
  for (char c : absl::AsciiStrToLower(std::string(name))) {
    if (c == ' ') {
      out.push_back('-');
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') {
      out.push_back(c);
    }
  }
  return out;
}

std::string SlotTypeForFileName(std::string_view file_name) {
  const std::string lower = absl::AsciiStrToLower(std::string(file_name));
  const size_t dot = lower.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : lower.substr(dot);
  static const char* const kImage[] = {".png",   ".jpeg", ".jpg", ".jfif", ".tif", ".tiff",
                                       ".qtiff", ".bmp",  ".svs", ".webp", ".gif"};
  for (const char* e : kImage) {
    if (ext == e) return "image";
  }
  if (ext == ".pdf") return "pdf";
  if (ext == ".dcm") return "dicom";
  return "video";
}

void Store::ResetLocked() { state_ = State(); }

void Store::AdvanceLocked() {
  const SteadyTime now = std::chrono::steady_clock::now();
  std::erase_if(state_.processing_seqs, [&](uint64_t seq) {
    auto it = state_.items.find(seq);
    if (it == state_.items.end() || !it->second.ready_at.has_value()) return true;
    Item& item = it->second;
    if (*item.ready_at > now) return false;
    item.ready_at.reset();
    item.status = item.pending_status;
    item.processing_status = item.status == "error" ? "error" : "complete";
    item.updated_at = NowTimestamp();
    return true;
  });
  for (Export& exp : state_.exports) {
    if (exp.ready_at.has_value() && *exp.ready_at <= now) {
      exp.ready_at.reset();
      exp.status = exp.pending_status;
    }
  }
}

absl::StatusOr<Team*> Store::AddTeamKeyLocked(std::string_view slug, std::string_view name,
                                              std::string_view api_key) {
  Team* team = TeamBySlugLocked(slug);
  if (team == nullptr) {
    const int64_t id = state_.next_team_id++;
    team = &state_.teams[id];
    team->id = id;
    team->slug = std::string(slug);
    team->name = name.empty() ? std::string(slug) : std::string(name);
    NewClassLocked(id, "__raster_layer__", {"raster_layer"});
  }
  auto it = state_.api_keys.find(std::string(api_key));
  if (it != state_.api_keys.end() && it->second != team->id) {
    return absl::AlreadyExistsError("API key already belongs to another team");
  }
  state_.api_keys[std::string(api_key)] = team->id;
  return team;
}

Team* Store::TeamForKeyLocked(std::string_view api_key) {
  return FindThrough(state_.api_keys, state_.teams, api_key);
}

Team* Store::TeamBySlugLocked(std::string_view slug) {
  for (auto& [id, team] : state_.teams) {
    if (team.slug == slug) return &team;
  }
  return nullptr;
}

absl::StatusOr<Dataset*> Store::CreateDatasetLocked(const Team& team, std::string_view name) {
  const std::string slug = Slugify(name);
  if (slug.empty()) return absl::InvalidArgumentError("dataset name has no usable characters");
  for (auto& [id, ds] : state_.datasets) {
    if (ds.team_id == team.id && !ds.archived && (ds.name == name || ds.slug == slug)) {
      return absl::AlreadyExistsError(
          absl::StrCat("dataset ", std::string(name), " already exists"));
    }
  }
  const int64_t id = state_.next_dataset_id++;
  Dataset& ds = state_.datasets[id];
  ds.id = id;
  ds.team_id = team.id;
  ds.name = std::string(name);
  ds.slug = slug;
  ds.inserted_at = NowTimestamp();

  Workflow wf;
  wf.id = NewUuid();
  wf.team_id = team.id;
  wf.name = absl::StrCat(std::string(name), " workflow");
  wf.dataset_id = id;
  wf.inserted_at = ds.inserted_at;
  for (const char* type : {"dataset", "annotate", "review", "complete"}) {
    WorkflowStage stage;
    stage.id = NewUuid();
    stage.type = type;
    stage.name = type;
    stage.name[0] = static_cast<char>(std::toupper(stage.name[0]));
    wf.stages.push_back(std::move(stage));
  }
  ds.workflow_id = wf.id;
  state_.workflow_order.push_back(wf.id);
  state_.workflows[wf.id] = std::move(wf);
  return &ds;
}

Dataset* Store::DatasetLocked(int64_t team_id, int64_t dataset_id) {
  auto it = state_.datasets.find(dataset_id);
  if (it == state_.datasets.end() || it->second.team_id != team_id) return nullptr;
  return &it->second;
}

Dataset* Store::DatasetBySlugLocked(int64_t team_id, std::string_view slug) {
  for (auto& [id, ds] : state_.datasets) {
    if (ds.team_id == team_id && !ds.archived && ds.slug == slug) return &ds;
  }
  return nullptr;
}

Item* Store::ItemLocked(std::string_view item_id) {
  return FindThrough(state_.item_by_id, state_.items, item_id);
}

Item* Store::FindItemLocked(const Dataset& ds, std::string_view path, std::string_view name) {
  auto key = state_.item_by_key.find({ds.id, std::string(path), std::string(name)});
  if (key == state_.item_by_key.end()) return nullptr;
  auto it = state_.items.find(key->second);
  return it == state_.items.end() ? nullptr : &it->second;
}

Item& Store::NewItemLocked(Dataset& ds, std::string_view name, std::string_view path) {
  const uint64_t seq = state_.next_item_seq++;
  Item& item = state_.items[seq];
  item.seq = seq;
  item.id = NewUuid();
  item.team_id = ds.team_id;
  item.dataset_id = ds.id;
  item.name = std::string(name);
  item.path = std::string(path);
  item.inserted_at = NowTimestamp();
  item.updated_at = item.inserted_at;
  ds.item_seqs.push_back(seq);
  state_.item_by_id[item.id] = seq;
  state_.item_by_key[{ds.id, item.path, item.name}] = seq;
  return item;
}

void Store::ProcessSlotLocked(Item& item, size_t slot_index,
                              std::shared_ptr<const std::string> bytes,
                              const absl::StatusOr<VideoInfo>* video) {
  if (slot_index >= item.slots.size()) return;
  Slot& slot = item.slots[slot_index];
  slot.bytes = bytes;
  slot.size_bytes = bytes == nullptr ? 0 : static_cast<int64_t>(bytes->size());
  bool ok = true;
  auto declared = state_.declared_media.find(slot.file_name);
  if (declared != state_.declared_media.end()) {
    const boost::json::object& d = declared->second;
    if (const auto* w = d.if_contains("width"); w != nullptr && w->is_int64()) {
      slot.width = w->as_int64();
      slot.metadata["width"] = *slot.width;
    }
    if (const auto* h = d.if_contains("height"); h != nullptr && h->is_int64()) {
      slot.height = h->as_int64();
      slot.metadata["height"] = *slot.height;
    }
    if (const auto* f = d.if_contains("frame_count"); f != nullptr && f->is_int64()) {
      slot.frame_count = f->as_int64();
    }
    if (const auto* f = d.if_contains("fps"); f != nullptr && f->is_number()) {
      slot.fps = f->to_number<double>();
    }
    if (const auto* t = d.if_contains("type"); t != nullptr && t->is_string()) {
      slot.type = std::string(t->as_string());
    }
  } else if (slot.type == "image") {
    absl::StatusOr<ImageInfo> info =
        ProbeImage(bytes == nullptr ? std::string_view() : std::string_view(*bytes));
    if (info.ok()) {
      slot.width = info->width;
      slot.height = info->height;
      slot.metadata["width"] = info->width;
      slot.metadata["height"] = info->height;
    } else {
      ok = false;
      slot.metadata["error"] = std::string(info.status().message());
    }
  } else if (slot.type == "video") {
    absl::StatusOr<VideoInfo> probed_here;
    if (video == nullptr) {
      probed_here = ProbeVideo(bytes == nullptr ? std::string_view() : std::string_view(*bytes));
      video = &probed_here;
    }
    if (video->ok()) {
      const VideoInfo& info = **video;
      // The registered `fps` is the sampling rate (0 or absent: native).
      const SampledVideo sampled = SampleVideo(info, slot.fps.value_or(0));
      slot.width = info.width;
      slot.height = info.height;
      slot.fps = sampled.fps;
      slot.frame_count = sampled.frame_count;
      slot.metadata["width"] = info.width;
      slot.metadata["height"] = info.height;
      slot.metadata["native_fps"] = info.fps;
    } else {
      ok = false;
      slot.metadata["error"] = std::string(video->status().message());
    }
  }
  // pdf and dicom are accepted as opaque files.
  slot.upload_id = slot.upload_id.empty() ? NewUuid() : slot.upload_id;
  bool all_done = true;
  for (const Slot& s : item.slots) {
    if (s.bytes == nullptr) all_done = false;
  }
  if (!ok) {
    item.pending_status = "error";
  } else if (all_done) {
    item.pending_status = item.pending_status == "error" ? "error" : "new";
  } else {
    return;
  }
  item.status = "processing";
  item.processing_status = "processing";
  item.ready_at = AfterMs(config_->processing_delay_ms.load());
  state_.processing_seqs.push_back(item.seq);
  AdvanceLocked();
}

AnnotationClass* Store::ClassLocked(int64_t team_id, int64_t class_id) {
  auto it = state_.classes.find(class_id);
  if (it == state_.classes.end() || it->second.team_id != team_id) return nullptr;
  return &it->second;
}

AnnotationClass* Store::FindClassLocked(int64_t team_id, std::string_view name,
                                        std::string_view main_type) {
  for (auto& [id, cls] : state_.classes) {
    if (cls.team_id != team_id || cls.name != name) continue;
    if (main_type.empty() ||
        (!cls.annotation_types.empty() && cls.annotation_types[0] == main_type)) {
      return &cls;
    }
  }
  return nullptr;
}

AnnotationClass& Store::NewClassLocked(int64_t team_id, std::string_view name,
                                       std::vector<std::string> types) {
  const int64_t id = state_.next_class_id++;
  AnnotationClass& cls = state_.classes[id];
  cls.id = id;
  cls.team_id = team_id;
  cls.name = std::string(name);
  cls.annotation_types = std::move(types);
  cls.metadata["_color"] = "rgba(255,0,122,1.0)";
  cls.inserted_at = NowTimestamp();
  cls.updated_at = cls.inserted_at;
  return cls;
}

Property* Store::PropertyLocked(int64_t team_id, std::string_view property_id) {
  auto it = state_.properties.find(std::string(property_id));
  if (it == state_.properties.end() || it->second.team_id != team_id) return nullptr;
  return &it->second;
}

Workflow* Store::WorkflowLocked(int64_t team_id, std::string_view workflow_id) {
  auto it = state_.workflows.find(std::string(workflow_id));
  if (it == state_.workflows.end() || it->second.team_id != team_id) return nullptr;
  return &it->second;
}

void Store::BuildExportLocked(Export& exp) {
  absl::StatusOr<BuiltExport> built = BuildExport(state_, exp);
  if (!built.ok()) {
    exp.pending_status = "failed";
    exp.metadata = boost::json::object();
    return;
  }
  exp.zip = std::make_shared<const std::string>(std::move(built->zip));
  exp.metadata = std::move(built->metadata);
  exp.pending_status = "complete";
}

}  // namespace labelport::darwin_sim
