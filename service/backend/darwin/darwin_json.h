// Darwin JSON 2.0 export files, decoded (spec: darwin-api.md §7; the files of
// tests/fixtures/darwin-json are golden data).
//
// Decoding is strict about what labelport needs (item id, slot sizes, an
// annotation's id, class name and shape) and tolerant of everything else:
// unknown annotation types and unknown fields are skipped and counted, never
// fatal. Coordinates stay in pixels, as V7 stores them.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_JSON_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_JSON_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::backend::darwin {

struct PixelPoint {
  double x = 0;
  double y = 0;
};

struct ExportedSlot {
  std::string slot_name;
  std::string type;  // "image", "video", ...
  double width = 0;
  double height = 0;
  int64_t frame_count = 0;
  double fps = 0;
};

// One property value of an annotation ("name" → "value"); frame_index is
// -1 for "global" (annotation-level) properties.
struct ExportedProperty {
  std::string name;
  std::optional<std::string> value;  // nullopt for JSON null
  int64_t frame_index = 0;
};

// One node of a `skeleton` annotation.
struct SkeletonNode {
  std::string name;
  double x = 0;
  double y = 0;
  bool occluded = false;
};

// A `raster_layer` annotation's body (darwin-api §7.4): row-major
// [label, run length, ...] pairs over `total_pixels` pixels, label 0 the
// background, and the mask annotation that each other label stands for.
struct RasterLayer {
  std::vector<int64_t> dense_rle;
  std::map<std::string, int64_t> mask_annotation_ids;  // mask annotation id → label
  int64_t total_pixels = 0;
};

struct ExportedAnnotation {
  std::string id;
  std::string name;       // class name (whitespace-stripped)
  std::string type;       // bounding_box, polygon, line, keypoint, tag (or another main type)
  std::string slot_name;  // first of slot_names ("" when absent)
  // bounding_box: x, y, w, h (also set for polygons when the file has one).
  std::optional<std::vector<double>> bounding_box;
  // polygon: its paths; line: one path.
  std::vector<std::vector<PixelPoint>> paths;
  // keypoint.
  std::optional<PixelPoint> point;
  // raster_layer (a `mask` annotation has no shape: its pixels are those of
  // its label in the slot's raster layer).
  std::optional<RasterLayer> raster_layer;
  // skeleton: its nodes, as listed.
  std::vector<SkeletonNode> nodes;
  std::optional<int64_t> instance_id;
  std::optional<double> confidence;     // inference.confidence
  std::optional<std::string> text;      // text.text
  std::vector<std::string> attributes;  // legacy attribute strings
  std::vector<ExportedProperty> properties;
  std::vector<std::string> annotators;  // full names (email when no name)
  std::vector<std::string> reviewers;
  // Video annotations are split into one ExportedAnnotation per visible
  // frame (same id, name and slot): `frame` is V7's 0-based frame index (-1
  // for image annotations), `keyframe` its flag. Frames inside
  // `hidden_areas` (inclusive pairs) and outside `ranges`/`segments`
  // (end-exclusive) are absent. Properties are those in force on the frame:
  // global ones plus, per name, the values set at the latest frame_index at
  // or before it.
  int64_t frame = -1;
  bool keyframe = false;
};

struct ExportedItem {
  std::string item_id;  // item.source_info.item_id
  std::string name;
  std::string path;
  std::vector<ExportedSlot> slots;
  std::vector<ExportedAnnotation> annotations;
  // Annotations that were not decoded (unsupported type, malformed shape,
  // video annotations), with a reason each.
  std::vector<std::pair<std::string, std::string>> skipped;  // (annotation id, reason)

  // The slot called `name`, or the first slot when `name` is empty.
  const ExportedSlot* Slot(absl::string_view name) const;
};

// Decodes one Darwin JSON 2.0 file. INVALID_ARGUMENT (naming the file and
// the JSON path) when it is not JSON, not version 2.x, or lacks item
// identity or slot sizes.
absl::StatusOr<ExportedItem> DecodeDarwinJson(absl::string_view json, absl::string_view file_name);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_JSON_H_
