#include "service/backend/darwin/darwin_json.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/backend/darwin/json_fields.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
using json_fields::Find;
using json_fields::OptArray;
using json_fields::OptObject;
using json_fields::Str;

// Main types the decoder understands beyond bounding_box and polygon, in the
// SDK parser's order (darwin-api.md §7.3), followed by the ones it only
// recognises in order to skip them with a precise reason.
constexpr absl::string_view kOtherMainTypes[] = {"tag",    "line",     "keypoint", "ellipse",
                                                 "cuboid", "skeleton", "table",    "simple_table",
                                                 "string", "graph",    "mask",     "raster_layer"};

std::optional<std::string> OptString(const json::object& o, absl::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return Str(v->get_string());
}

std::optional<double> AsNumber(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

std::optional<double> OptNumber(const json::object& o, absl::string_view key) {
  const json::value* v = Find(o, key);
  return v == nullptr ? std::nullopt : AsNumber(*v);
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    // Only integral values: 2.5 is not an instance id.
    if (d >= -9.0e15 && d <= 9.0e15 && static_cast<double>(static_cast<int64_t>(d)) == d) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<int64_t> OptInt(const json::object& o, absl::string_view key) {
  const json::value* v = Find(o, key);
  return v == nullptr ? std::nullopt : AsInt(*v);
}

bool Has(const json::object& o, absl::string_view key) {
  return o.contains(json::string_view(key.data(), key.size()));
}

absl::Status Invalid(absl::string_view file_name, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("Darwin JSON file '", file_name, "': ", field, " ", what));
}

// {"x": .., "y": ..} → a point; nullopt when either coordinate is missing.
std::optional<PixelPoint> ParsePoint(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  std::optional<double> x = OptNumber(v.get_object(), "x");
  std::optional<double> y = OptNumber(v.get_object(), "y");
  if (!x.has_value() || !y.has_value()) return std::nullopt;
  return PixelPoint{*x, *y};
}

std::optional<std::vector<PixelPoint>> ParsePath(const json::value& v) {
  if (!v.is_array()) return std::nullopt;
  std::vector<PixelPoint> path;
  path.reserve(v.get_array().size());
  for (const json::value& p : v.get_array()) {
    std::optional<PixelPoint> point = ParsePoint(p);
    if (!point.has_value()) return std::nullopt;
    path.push_back(*point);
  }
  return path;
}

std::optional<std::vector<double>> ParseBox(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  std::optional<double> x = OptNumber(o, "x");
  std::optional<double> y = OptNumber(o, "y");
  std::optional<double> w = OptNumber(o, "w");
  std::optional<double> h = OptNumber(o, "h");
  if (!x || !y || !w || !h) return std::nullopt;
  return std::vector<double>{*x, *y, *w, *h};
}

// The author names of an annotators/reviewers array: full_name, else email.
std::vector<std::string> ParseAuthors(const json::object& o, absl::string_view key) {
  std::vector<std::string> names;
  const json::array* authors = OptArray(o, key);
  if (authors == nullptr) return names;
  for (const json::value& a : *authors) {
    if (!a.is_object()) continue;
    std::optional<std::string> name = OptString(a.get_object(), "full_name");
    if (!name.has_value() || name->empty()) name = OptString(a.get_object(), "email");
    if (name.has_value() && !name->empty()) names.push_back(*std::move(name));
  }
  return names;
}

std::vector<ExportedProperty> ParseProperties(const json::object& o) {
  std::vector<ExportedProperty> properties;
  const json::array* list = OptArray(o, "properties");
  if (list == nullptr) return properties;
  for (const json::value& p : *list) {
    if (!p.is_object()) continue;
    const json::object& po = p.get_object();
    std::optional<std::string> name = OptString(po, "name");
    if (!name.has_value()) continue;
    ExportedProperty property;
    property.name = *std::move(name);
    if (const json::value* value = Find(po, "value")) {
      property.value = value->is_string() ? Str(value->get_string()) : json::serialize(*value);
    }
    if (const json::value* frame = Find(po, "frame_index")) {
      if (frame->is_string() && frame->get_string() == "global") {
        property.frame_index = -1;
      } else if (std::optional<int64_t> index = AsInt(*frame)) {
        property.frame_index = *index;
      }
    }
    properties.push_back(std::move(property));
  }
  return properties;
}

// The sub-annotations and authorship shared by every decoded annotation.
void ParseCommon(const json::object& o, ExportedAnnotation& a) {
  if (const json::object* instance = OptObject(o, "instance_id")) {
    if (const json::value* value = Find(*instance, "value")) a.instance_id = AsInt(*value);
  }
  if (const json::object* inference = OptObject(o, "inference")) {
    a.confidence = OptNumber(*inference, "confidence");
  }
  if (const json::object* text = OptObject(o, "text")) a.text = OptString(*text, "text");
  if (const json::array* attributes = OptArray(o, "attributes")) {
    for (const json::value& attr : *attributes) {
      if (attr.is_string()) a.attributes.push_back(Str(attr.get_string()));
    }
  }
  a.properties = ParseProperties(o);
  a.annotators = ParseAuthors(o, "annotators");
  a.reviewers = ParseAuthors(o, "reviewers");
}

// Decodes a raster layer's body into `a`, or returns why it was skipped.
std::optional<std::string> ParseRasterLayer(const json::value& v, ExportedAnnotation& a) {
  if (!v.is_object()) return "malformed raster_layer: not an object";
  const json::object& o = v.get_object();
  RasterLayer layer;
  const json::array* rle = OptArray(o, "dense_rle");
  if (rle == nullptr || rle->size() % 2 != 0)
    return "malformed raster_layer: 'dense_rle' is not a list of [label, length] pairs";
  layer.dense_rle.reserve(rle->size());
  for (const json::value& n : *rle) {
    std::optional<int64_t> i = AsInt(n);
    if (!i.has_value() || *i < 0) return "malformed raster_layer: a 'dense_rle' entry is not >= 0";
    layer.dense_rle.push_back(*i);
  }
  std::optional<int64_t> total = OptInt(o, "total_pixels");
  if (!total.has_value() || *total < 0) return "malformed raster_layer: no 'total_pixels'";
  layer.total_pixels = *total;
  if (const json::object* mapping = OptObject(o, "mask_annotation_ids_mapping")) {
    for (const auto& entry : *mapping) {
      std::optional<int64_t> label = AsInt(entry.value());
      if (!label.has_value() || *label <= 0)
        return "malformed raster_layer: a mask_annotation_ids_mapping label is not > 0";
      layer.mask_annotation_ids[std::string(entry.key())] = *label;
    }
  }
  a.raster_layer = std::move(layer);
  return std::nullopt;
}

// Decodes the shape of one image annotation into `a`, or returns why it was
// skipped.
std::optional<std::string> ParseShape(const json::object& o, ExportedAnnotation& a) {
  if (const json::object* polygon = OptObject(o, "polygon")) {
    a.type = "polygon";
    if (const json::value* paths = Find(*polygon, "paths")) {
      if (!paths->is_array()) return "malformed polygon: 'paths' is not an array";
      for (const json::value& path : paths->get_array()) {
        std::optional<std::vector<PixelPoint>> points = ParsePath(path);
        if (!points.has_value()) return "malformed polygon: a path is not a list of {x, y}";
        a.paths.push_back(*std::move(points));
      }
    } else if (const json::value* path = Find(*polygon, "path")) {
      std::optional<std::vector<PixelPoint>> points = ParsePath(*path);
      if (!points.has_value()) return "malformed polygon: 'path' is not a list of {x, y}";
      a.paths.push_back(*std::move(points));
    } else {
      return "malformed polygon: neither 'paths' nor 'path'";
    }
    if (a.paths.empty()) return "malformed polygon: no paths";
    if (const json::value* box = Find(o, "bounding_box")) a.bounding_box = ParseBox(*box);
    return std::nullopt;
  }
  if (const json::value* box = Find(o, "bounding_box")) {
    a.type = "bounding_box";
    a.bounding_box = ParseBox(*box);
    if (!a.bounding_box.has_value()) return "malformed bounding_box: needs numeric x, y, w, h";
    return std::nullopt;
  }
  for (absl::string_view type : kOtherMainTypes) {
    if (!Has(o, type)) continue;
    a.type = std::string(type);
    if (type == "tag") return std::nullopt;
    if (type == "line") {
      const json::object* line = OptObject(o, "line");
      std::optional<std::vector<PixelPoint>> points;
      if (line != nullptr) {
        if (const json::value* path = Find(*line, "path")) points = ParsePath(*path);
      }
      if (!points.has_value()) return "malformed line: 'path' is not a list of {x, y}";
      a.paths.push_back(*std::move(points));
      return std::nullopt;
    }
    if (type == "keypoint") {
      const json::value* point = Find(o, "keypoint");
      a.point = point == nullptr ? std::nullopt : ParsePoint(*point);
      if (!a.point.has_value()) return "malformed keypoint: needs numeric x, y";
      return std::nullopt;
    }
    if (type == "mask") {
      const json::value* mask = Find(o, "mask");
      if (!mask->is_object()) return "malformed mask: not an object";
      const json::value* sparse = Find(mask->get_object(), "sparse_rle");
      if (sparse != nullptr && !sparse->is_null()) return "unsupported mask: sparse_rle";
      return std::nullopt;
    }
    if (type == "raster_layer") return ParseRasterLayer(*Find(o, "raster_layer"), a);
    if (type == "skeleton") {
      const json::object* skeleton = OptObject(o, "skeleton");
      const json::array* nodes = skeleton == nullptr ? nullptr : OptArray(*skeleton, "nodes");
      if (nodes == nullptr) return "malformed skeleton: 'nodes' is not a list";
      for (const json::value& n : *nodes) {
        const json::object* node = n.if_object();
        std::optional<PixelPoint> point = node == nullptr ? std::nullopt : ParsePoint(n);
        std::optional<std::string> name = node == nullptr ? std::nullopt : OptString(*node, "name");
        if (!point.has_value() || !name.has_value())
          return "malformed skeleton: a node needs a name and numeric x, y";
        const json::value* occluded = Find(*node, "occluded");
        a.nodes.push_back({*std::move(name), point->x, point->y,
                           occluded != nullptr && occluded->is_bool() && occluded->get_bool()});
      }
      return std::nullopt;
    }
    return absl::StrCat("unsupported annotation type '", type, "'");
  }
  return "no known annotation type";
}

// [start, end) frame pairs of `key` ("ranges", or the older "segments").
std::vector<std::pair<int64_t, int64_t>> ParsePairs(const json::object& o, absl::string_view key) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const json::array* list = OptArray(o, key);
  if (list == nullptr) return out;
  for (const json::value& pair : *list) {
    if (!pair.is_array() || pair.get_array().size() != 2) continue;
    std::optional<int64_t> a = AsInt(pair.get_array()[0]);
    std::optional<int64_t> b = AsInt(pair.get_array()[1]);
    if (a && b) out.emplace_back(*a, *b);
  }
  return out;
}

// The properties in force on `frame` (see ExportedAnnotation::frame).
std::vector<ExportedProperty> PropertiesAt(const std::vector<ExportedProperty>& all,
                                           int64_t frame) {
  std::map<std::string, int64_t> latest;  // name → latest frame_index <= frame
  for (const ExportedProperty& p : all) {
    if (p.frame_index < 0 || p.frame_index > frame) continue;
    auto [it, inserted] = latest.emplace(p.name, p.frame_index);
    if (!inserted) it->second = std::max(it->second, p.frame_index);
  }
  std::vector<ExportedProperty> out;
  for (const ExportedProperty& p : all) {
    auto it = latest.find(p.name);
    if (p.frame_index < 0 || (it != latest.end() && it->second == p.frame_index)) out.push_back(p);
  }
  return out;
}

// Splits a video annotation (darwin-api §7.9) into one annotation per
// visible frame, appended to `out`; returns why it was skipped, if it was.
std::optional<std::string> SplitVideoAnnotation(const json::object& o,
                                                const ExportedAnnotation& common,
                                                std::vector<ExportedAnnotation>& out) {
  const json::object* frames = OptObject(o, "frames");
  if (frames == nullptr) return "malformed video annotation: 'frames' is not an object";
  std::map<int64_t, const json::object*> by_index;
  auto collect = [&](const json::object& source) -> std::optional<std::string> {
    for (const auto& entry : source) {
      int64_t index = 0;
      const std::string key(entry.key());
      if (key.empty() || !absl::SimpleAtoi(key, &index) || index < 0)
        return absl::StrCat("malformed video annotation: frame key '", key,
                            "' is not a 0-based index");
      if (!entry.value().is_object())
        return absl::StrCat("malformed video annotation: frame ", key, " is not an object");
      by_index.emplace(index, &entry.value().get_object());
    }
    return std::nullopt;
  };
  if (auto reason = collect(*frames)) return reason;
  if (const json::object* sections = OptObject(o, "sections")) {
    if (auto reason = collect(*sections)) return reason;
  }
  std::vector<std::pair<int64_t, int64_t>> ranges = ParsePairs(o, "ranges");
  if (ranges.empty()) ranges = ParsePairs(o, "segments");
  const std::vector<std::pair<int64_t, int64_t>> hidden = ParsePairs(o, "hidden_areas");
  auto visible = [&](int64_t k) {
    bool in_range = ranges.empty();
    for (const auto& [start, end] : ranges) in_range = in_range || (k >= start && k < end);
    for (const auto& [start, end] : hidden)
      if (k >= start && k <= end) return false;
    return in_range;
  };
  ExportedAnnotation base = common;
  base.properties = ParseProperties(o);
  base.annotators = ParseAuthors(o, "annotators");
  base.reviewers = ParseAuthors(o, "reviewers");
  std::optional<std::string> first_reason;
  for (const auto& [index, frame] : by_index) {
    if (!visible(index)) continue;
    ExportedAnnotation a = base;
    a.properties.clear();
    a.frame = index;
    if (const json::value* keyframe = Find(*frame, "keyframe"))
      a.keyframe = keyframe->is_bool() && keyframe->get_bool();
    if (std::optional<std::string> reason = ParseShape(*frame, a)) {
      if (!first_reason) first_reason = absl::StrCat("frame ", index, ": ", *reason);
      continue;
    }
    // Sub-annotations live on the frame; authorship and properties on the
    // annotation.
    ParseCommon(*frame, a);
    a.properties = PropertiesAt(base.properties, index);
    a.annotators = base.annotators;
    a.reviewers = base.reviewers;
    out.push_back(std::move(a));
  }
  return first_reason;
}

absl::StatusOr<ExportedSlot> ParseSlot(const json::value& v, size_t index,
                                       absl::string_view file_name) {
  std::string field = absl::StrCat("item.slots[", index, "]");
  if (!v.is_object()) return Invalid(file_name, field, "is not an object");
  const json::object& o = v.get_object();
  ExportedSlot slot;
  slot.slot_name = OptString(o, "slot_name").value_or("");
  slot.type = OptString(o, "type").value_or("");
  if (!slot.slot_name.empty()) absl::StrAppend(&field, " (slot '", slot.slot_name, "')");
  std::optional<double> width = OptNumber(o, "width");
  std::optional<double> height = OptNumber(o, "height");
  if (!width.has_value() || !height.has_value() || *width <= 0 || *height <= 0) {
    return Invalid(file_name, field, "lacks a positive width and height");
  }
  slot.width = *width;
  slot.height = *height;
  slot.frame_count = OptInt(o, "frame_count").value_or(0);
  slot.fps = OptNumber(o, "fps").value_or(0);
  return slot;
}

}  // namespace

const ExportedSlot* ExportedItem::Slot(absl::string_view name) const {
  if (name.empty()) return slots.empty() ? nullptr : &slots.front();
  for (const ExportedSlot& slot : slots) {
    if (slot.slot_name == name) return &slot;
  }
  return nullptr;
}

namespace {

// A reusable parser and arena buffer, one per thread. The buffer holds the
// tree of one file (about three times its text); it grows to the largest
// file seen, up to kMaxKeptBytes, beyond which the arena takes the rest from
// the heap for that file only.
struct ParseArena {
  static constexpr size_t kMinBytes = size_t{64} * 1024;
  static constexpr size_t kMaxKeptBytes = size_t{16} * 1024 * 1024;
  json::parser parser;
  std::unique_ptr<unsigned char[]> buffer;
  size_t size = 0;

  unsigned char* Buffer(size_t text_size) {
    const size_t want = std::min(kMaxKeptBytes, std::max(kMinBytes, 4 * text_size));
    if (want > size) {
      buffer = std::make_unique<unsigned char[]>(want);
      size = want;
    }
    return buffer.get();
  }
};

ParseArena& ThreadParseArena() {
  thread_local ParseArena arena;
  return arena;
}

}  // namespace

absl::StatusOr<ExportedItem> DecodeDarwinJson(absl::string_view json_text,
                                              absl::string_view file_name) {
  // The parsed tree lives in a per-thread arena that is reused from item to
  // item (one allocation instead of one per JSON node; nothing is freed node
  // by node), with a reused parser: this is most of the parsing cost.
  ParseArena& arena = ThreadParseArena();
  json::monotonic_resource resource(arena.Buffer(json_text.size()), arena.size);
  arena.parser.reset(json::storage_ptr(&resource));
  boost::system::error_code ec;
  arena.parser.write(json_text.data(), json_text.size(), ec);
  if (ec) {
    arena.parser.reset();
    return absl::InvalidArgumentError(
        absl::StrCat("Darwin JSON file '", file_name, "' is not JSON: ", ec.message()));
  }
  const json::value root = arena.parser.release();
  if (!root.is_object()) return Invalid(file_name, "<root>", "is not an object");
  const json::object& top = root.get_object();

  std::optional<std::string> version = OptString(top, "version");
  if (!version.has_value()) return Invalid(file_name, "version", "is missing or not a string");
  if (!absl::StartsWith(*version, "2")) {
    return Invalid(file_name, "version", absl::StrCat("is '", *version, "', not 2.x"));
  }

  const json::object* item_obj = OptObject(top, "item");
  if (item_obj == nullptr) return Invalid(file_name, "item", "is missing or not an object");
  ExportedItem item;
  const json::object* source_info = OptObject(*item_obj, "source_info");
  std::optional<std::string> item_id =
      source_info == nullptr ? std::nullopt : OptString(*source_info, "item_id");
  if (!item_id.has_value() || item_id->empty()) {
    return Invalid(file_name, "item.source_info.item_id", "is missing");
  }
  item.item_id = *std::move(item_id);
  item.name = OptString(*item_obj, "name").value_or("");
  item.path = OptString(*item_obj, "path").value_or("/");

  const json::array* slots = OptArray(*item_obj, "slots");
  if (slots == nullptr || slots->empty()) {
    return Invalid(file_name, "item.slots", "is missing or empty");
  }
  for (size_t i = 0; i < slots->size(); ++i) {
    absl::StatusOr<ExportedSlot> slot = ParseSlot((*slots)[i], i, file_name);
    if (!slot.ok()) return slot.status();
    item.slots.push_back(*std::move(slot));
  }

  const json::value* annotations = Find(top, "annotations");
  if (annotations == nullptr || !annotations->is_array()) {
    return Invalid(file_name, "annotations", "is missing or not an array");
  }
  const json::array& list = annotations->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) {
      item.skipped.emplace_back(absl::StrCat("annotations[", i, "]"), "not an object");
      continue;
    }
    const json::object& o = list[i].get_object();
    ExportedAnnotation a;
    // Exports always carry an id; files written by hand (or the legacy
    // ferrari fixture) may not, and keep "".
    a.id = OptString(o, "id").value_or("");
    std::string skip_key = a.id.empty() ? absl::StrCat("annotations[", i, "]") : a.id;
    std::optional<std::string> name = OptString(o, "name");
    if (!name.has_value()) {
      item.skipped.emplace_back(skip_key, "no class name");
      continue;
    }
    a.name = std::string(absl::StripAsciiWhitespace(*name));
    if (const json::array* slot_names = OptArray(o, "slot_names")) {
      if (!slot_names->empty() && slot_names->front().is_string()) {
        a.slot_name = Str(slot_names->front().get_string());
      }
    }
    if (Has(o, "frames")) {
      std::optional<std::string> reason = SplitVideoAnnotation(o, a, item.annotations);
      if (reason) item.skipped.emplace_back(skip_key, *std::move(reason));
      continue;
    }
    if (std::optional<std::string> reason = ParseShape(o, a)) {
      item.skipped.emplace_back(skip_key, *std::move(reason));
      continue;
    }
    ParseCommon(o, a);
    item.annotations.push_back(std::move(a));
  }
  return item;
}

}  // namespace labelport::backend::darwin
