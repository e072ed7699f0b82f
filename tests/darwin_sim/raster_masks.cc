#include "raster_masks.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "annotator.h"
#include "ids.h"
#include "json_util.h"

namespace labelport::darwin_sim {
namespace {

constexpr char kRasterClass[] = "__raster_layer__";
// Painting decodes the layer; beyond this a test has asked for too much.
constexpr int64_t kMaxPaintPixels = int64_t{8192} * 8192;

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("raster_layer: ", what));
}

const Slot* FindSlot(const Item& item, const std::string& slot_name) {
  for (const Slot& s : item.slots)
    if (slot_name.empty() || s.slot_name == slot_name) return &s;
  return nullptr;
}

std::vector<uint16_t> Decode(const json::object& layer, int64_t total) {
  std::vector<uint16_t> out;
  out.reserve(static_cast<size_t>(total));
  const json::array rle = GetArray(layer, "dense_rle");
  for (size_t i = 0; i + 1 < rle.size(); i += 2) {
    const int64_t label = AsInt(rle[i]).value_or(0);
    const int64_t run = AsInt(rle[i + 1]).value_or(0);
    out.insert(out.end(), static_cast<size_t>(std::max<int64_t>(run, 0)),
               static_cast<uint16_t>(label));
  }
  out.resize(static_cast<size_t>(total), 0);
  return out;
}

json::array Encode(const std::vector<uint16_t>& pixels) {
  json::array out;
  for (size_t i = 0; i < pixels.size();) {
    size_t j = i;
    while (j < pixels.size() && pixels[j] == pixels[i]) ++j;
    out.emplace_back(pixels[i]);
    out.emplace_back(static_cast<int64_t>(j - i));
    i = j;
  }
  return out;
}

bool OnSlot(const Annotation& a, const std::string& slot) {
  return a.slot_names.empty() || a.slot_names[0] == slot;
}

}  // namespace

absl::Status ValidateRasterLayer(const json::value& body, std::optional<int64_t> slot_pixels) {
  if (!body.is_object()) return Bad("must be an object");
  const json::object& o = body.as_object();
  const json::value* rle = Find(o, "dense_rle");
  if (rle == nullptr || !rle->is_array()) return Bad("dense_rle must be a list");
  const json::array& pairs = rle->as_array();
  if (pairs.size() % 2 != 0) return Bad("dense_rle must hold [label, run length] pairs");
  const std::optional<int64_t> total = GetInt(o, "total_pixels");
  if (!total.has_value() || *total < 0) return Bad("total_pixels must be a non-negative integer");
  int64_t sum = 0;
  for (size_t i = 0; i < pairs.size(); i += 2) {
    const std::optional<int64_t> label =
        pairs[i].is_int64() || pairs[i].is_uint64() ? AsInt(pairs[i]) : std::nullopt;
    const std::optional<int64_t> run =
        pairs[i + 1].is_int64() || pairs[i + 1].is_uint64() ? AsInt(pairs[i + 1]) : std::nullopt;
    if (!label.has_value() || *label < 0 || *label > 0xffff)
      return Bad(absl::StrCat("dense_rle label at ", i, " must be an integer in [0, 65535]"));
    if (!run.has_value() || *run <= 0)
      return Bad(absl::StrCat("dense_rle run length at ", i + 1, " must be a positive integer"));
    sum += *run;
    if (sum > *total) break;
  }
  if (sum != *total)
    return Bad(absl::StrCat("dense_rle covers ", sum, " pixels, total_pixels is ", *total));
  if (slot_pixels.has_value() && *slot_pixels != *total)
    return Bad(absl::StrCat("total_pixels ", *total, " is not the slot's width x height (",
                            *slot_pixels, ")"));
  const json::value* mapping = Find(o, "mask_annotation_ids_mapping");
  if (mapping == nullptr || !mapping->is_object())
    return Bad("mask_annotation_ids_mapping must be an object");
  for (const auto& kv : mapping->as_object()) {
    const std::optional<int64_t> label =
        kv.value().is_int64() || kv.value().is_uint64() ? AsInt(kv.value()) : std::nullopt;
    if (!label.has_value() || *label <= 0 || *label > 0xffff)
      return Bad(absl::StrCat("mask_annotation_ids_mapping[", std::string(kv.key()),
                              "] must be an integer in [1, 65535]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMask(const json::value& body) {
  if (!body.is_object()) return absl::InvalidArgumentError("mask: must be an object");
  const json::value* sparse = Find(body.as_object(), "sparse_rle");
  if (sparse != nullptr && !sparse->is_null())
    return absl::InvalidArgumentError("mask: sparse_rle is not supported (must be null)");
  return absl::OkStatus();
}

absl::Status ValidateMaskData(const std::string& main_type, const std::string& class_name,
                              const json::object& data, std::optional<int64_t> slot_pixels) {
  const json::value* raster = Find(data, "raster_layer");
  const json::value* mask = Find(data, "mask");
  if (main_type == "raster_layer" || raster != nullptr) {
    if (main_type != "raster_layer" || class_name != kRasterClass || raster == nullptr)
      return Bad(absl::StrCat("a raster layer needs the class ", kRasterClass,
                              " and a raster_layer body (class '", class_name, "', main type '",
                              main_type, "')"));
    return ValidateRasterLayer(*raster, slot_pixels);
  }
  if (main_type == "mask" || mask != nullptr) {
    if (main_type != "mask" || mask == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("mask: class '", class_name,
                                                     "' has main type '", main_type,
                                                     "'; a mask body needs a mask class"));
    return ValidateMask(*mask);
  }
  return absl::OkStatus();
}

absl::StatusOr<json::object> PaintMaskLocked(Store& store, Item& item, const json::object& req) {
  std::string slot_name = GetString(req, "slot_name");
  const Slot* slot = FindSlot(item, slot_name);
  if (slot == nullptr) return absl::InvalidArgumentError("the item has no such slot");
  slot_name = slot->slot_name;
  if (!slot->width || !slot->height)
    return absl::InvalidArgumentError("the slot has no size yet (not processed)");
  const int64_t width = *slot->width;
  const int64_t height = *slot->height;
  if (width * height > kMaxPaintPixels) return absl::InvalidArgumentError("slot too large");
  const json::value* rect_value = Find(req, "rect");
  if (rect_value == nullptr || !rect_value->is_object())
    return absl::InvalidArgumentError("rect {x, y, w, h} (pixels) is required");
  const json::object& rect = rect_value->as_object();
  const std::optional<int64_t> rx = GetInt(rect, "x"), ry = GetInt(rect, "y");
  const std::optional<int64_t> rw = GetInt(rect, "w"), rh = GetInt(rect, "h");
  if (!rx || !ry || !rw || !rh || *rw < 0 || *rh < 0)
    return absl::InvalidArgumentError("rect needs integer x, y and non-negative w, h");
  const json::value* class_value = Find(req, "class_name");
  const bool erase = class_value == nullptr || class_value->is_null();
  if (!erase && (!class_value->is_string() || class_value->as_string().empty()))
    return absl::InvalidArgumentError("class_name must be a class name or null (background)");

  // The class's mask annotation on the slot, made when missing.
  Annotation* mask = nullptr;
  if (!erase) {
    const std::string name(class_value->as_string());
    AnnotationClass* cls = store.FindClassLocked(item.team_id, name, "mask");
    if (cls == nullptr) cls = &store.NewClassLocked(item.team_id, name, {"mask"});
    if (std::find(cls->datasets.begin(), cls->datasets.end(), item.dataset_id) ==
        cls->datasets.end())
      cls->datasets.push_back(item.dataset_id);
    for (Annotation& a : item.annotations)
      if (a.class_id == cls->id && a.data.contains("mask") && OnSlot(a, slot_name)) mask = &a;
    if (mask == nullptr) {
      Annotation a;
      a.id = NewUuid();
      a.class_id = cls->id;
      a.slot_names.push_back(slot_name);
      a.data["mask"] = json::object{{"sparse_rle", nullptr}};
      item.annotations.push_back(std::move(a));
      mask = &item.annotations.back();
    }
  }
  const std::string mask_id = mask != nullptr ? mask->id : "";

  // The slot's raster layer, made when missing.
  AnnotationClass* raster_class = store.FindClassLocked(item.team_id, kRasterClass, "raster_layer");
  if (raster_class == nullptr)
    return absl::FailedPreconditionError("the team has no __raster_layer__ class");
  Annotation* raster = nullptr;
  for (Annotation& a : item.annotations)
    if (a.data.contains("raster_layer") && OnSlot(a, slot_name)) raster = &a;
  if (raster == nullptr) {
    Annotation a;
    a.id = NewUuid();
    a.class_id = raster_class->id;
    a.slot_names.push_back(slot_name);
    a.data["raster_layer"] = json::object{{"dense_rle", json::array{0, width * height}},
                                          {"mask_annotation_ids_mapping", json::object{}},
                                          {"total_pixels", width * height}};
    item.annotations.push_back(std::move(a));
    raster = &item.annotations.back();
  }
  json::object& layer = raster->data["raster_layer"].as_object();
  if (!layer["mask_annotation_ids_mapping"].is_object())
    layer["mask_annotation_ids_mapping"] = json::object{};
  json::object& mapping = layer["mask_annotation_ids_mapping"].as_object();
  uint16_t label = 0;
  if (!erase) {
    if (const json::value* known = mapping.if_contains(mask_id)) {
      label = static_cast<uint16_t>(AsInt(*known).value_or(0));
    } else {
      int64_t max_label = 0;
      for (const auto& kv : mapping) max_label = std::max(max_label, AsInt(kv.value()).value_or(0));
      label = static_cast<uint16_t>(max_label + 1);
      mapping[mask_id] = label;
    }
  }
  std::vector<uint16_t> pixels = Decode(layer, width * height);
  const int64_t x0 = std::clamp<int64_t>(*rx, 0, width), x1 = std::clamp(*rx + *rw, x0, width);
  const int64_t y0 = std::clamp<int64_t>(*ry, 0, height), y1 = std::clamp(*ry + *rh, y0, height);
  for (int64_t y = y0; y < y1; ++y)
    std::fill(pixels.begin() + y * width + x0, pixels.begin() + y * width + x1, label);
  layer["dense_rle"] = Encode(pixels);
  layer["total_pixels"] = width * height;
  if (const json::value* author = Find(req, "author"); author != nullptr && author->is_object()) {
    json::object actor = author->as_object();
    actor["role"] = GetString(req, "role", "annotator");
    raster->actors = json::array{actor};
    for (Annotation& a : item.annotations)
      if (!mask_id.empty() && a.id == mask_id) a.actors = json::array{actor};
  }
  item.updated_at = NowTimestamp();
  json::object out;
  out["raster_layer"] = AnnotationView(store.state(), *raster);
  if (!erase) {
    for (const Annotation& a : item.annotations)
      if (a.id == mask_id) out["mask"] = AnnotationView(store.state(), a);
  } else {
    out["mask"] = nullptr;
  }
  return out;
}

}  // namespace labelport::darwin_sim
