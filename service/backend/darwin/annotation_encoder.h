// Converts FiftyOne labels (labelport.v1 FieldValue, relative coordinates) to
// V7 import-format annotations (E35 payload elements, pixel coordinates) —
// spec: annotation-semantics §5.6 with the [fix] items; darwin-api §6.2, §7.10.
//
// Rules:
//  - Darwin class type by schema type: classification(s) → tag,
//    detection(s) → bounding_box, polygon(s) → polygon, polyline(s) → line,
//    keypoint(s) → keypoint. Class name = label.
//  - Geometry is clipped to the image: a box becomes its intersection with
//    [0, 1] x [0, 1], a point's coordinates are clamped to [0, 1] (the
//    validator refuses labels wholly outside or far outside the image).
//  - Detection: box scaled by (W, H). Polygon: one path per shape ("path" +
//    "additional_paths"). Polyline field: one `line` per shape (several shapes
//    become several annotations, one "part" each). Keypoint: one `keypoint`
//    annotation per point (part = point index); NaN points are skipped and
//    come back as NaN. Classification: `tag`.
//  - Sub-annotations: index → instance_id (0 included), confidence →
//    inference (0.0 included; per-point keypoint confidences go to each
//    part), the class's (first) text attribute → text.
//  - Select attributes → annotation_properties, by property and value ids
//    (granularity "annotation" → "global", otherwise frame "0").
//  - Every annotation gets a deterministic id derived from (run uid, label
//    id, part), so a resumed upload re-imports the same ids, and an
//    AnnotationLink maps it back to the client label.
// Attributes, tags and confidences V7 cannot carry are not lost: the load
// restores them from the stored samples (the upload snapshot).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_ENCODER_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_ENCODER_H_

#include <boost/json/array.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::backend::darwin {

// The Darwin main annotation type of a FiftyOne schema type ("" if none).
std::string DarwinTypeOf(absl::string_view schema_type);
// The Darwin main type of a field: DarwinTypeOf its type, except "skeleton"
// for an image keypoint field with a skeleton (skeleton.h).
std::string DarwinTypeOfField(const labelport::v1::FieldSchema& field);

// The Darwin sub-types a class of this field should enable.
std::vector<std::string> DarwinSubTypesFor(const labelport::v1::FieldSchema& field,
                                           absl::string_view class_name);

// (class name, darwin type) pairs a run needs: the schema's classes plus the
// classes of the labels it uploads.
using ClassKey = std::pair<std::string, std::string>;

// The attributes of `field` that apply to labels of `class_name`: the field's
// own plus those of the class groups containing the class.
std::vector<labelport::v1::AttributeSpec> AttributesFor(const labelport::v1::FieldSchema& field,
                                                        absl::string_view class_name);

// The V7 property value string of an attribute value ("true"/"false", decimal
// numbers, strings as they are).
std::string PropertyValueString(const labelport::v1::AttributeValue& value);

// A deterministic V7 annotation id (RFC 4122 layout, version 4 bits set)
// derived from SHA-256 of the inputs.
std::string DeterministicAnnotationId(absl::string_view run_uid, absl::string_view label_id,
                                      int part);

// A V7 property resolved for a class: its id and value ids by value string.
struct ResolvedProperty {
  std::string id;
  std::string granularity;
  std::map<std::string, std::string> value_ids;
};

struct EncodeContext {
  const labelport::v1::FieldSchema* field = nullptr;
  // V7's measured slot size, in pixels.
  int width = 0;
  int height = 0;
  std::string slot_name = "0";
  std::string run_uid;
  std::string sample_id;
  std::string item_id;
  // Class id of (name, darwin type); NOT_FOUND when the class is missing.
  std::function<absl::StatusOr<int64_t>(const std::string&, const std::string&)> class_id;
  // Property of class `class_id` named `attribute`, when one exists.
  std::function<std::optional<ResolvedProperty>(int64_t, const std::string&)> property;
};

struct EncodedLabels {
  boost::json::array annotations;
  std::vector<labelport::internal::v1::AnnotationLink> links;
};

// Encodes one sample-level field value. INVALID_ARGUMENT (naming the sample,
// field and label) when a label cannot be expressed, e.g. a zero image size.
absl::StatusOr<EncodedLabels> EncodeFieldValue(const labelport::v1::FieldValue& value,
                                               const EncodeContext& context);

// Encodes the frame-level labels of one video field (darwin-api §7.9-§7.10,
// annotation-semantics §5.8 without its defects):
//  - a track — the labels of the field sharing an `index` and a class across
//    frames (and, for labels split into parts, the same part) — becomes ONE
//    V7 video annotation: `frames` keyed by the 0-based frame index (FiftyOne
//    frame n → "n-1"), each with the shape and sub-annotations and
//    `keyframe: true`; one segment [first, last + 1); `hidden_areas`
//    (inclusive pairs) over the frames inside it where the track has no label;
//    `interpolated: true`. Its id is derived from (run, sample, field, index,
//    class, part), so a resumed upload re-imports the same id;
//  - with `only_keyframes`, only the track's labels with `keyframe` set (and
//    its first label, which V7 needs to start the range) are sent; V7 fills
//    the frames in between;
//  - labels without an index (and every classification) become one
//    single-frame annotation each;
//  - section-level properties are keyed by the frame they are set on.
// Each annotation's link records the label of every frame of the track
// (keyframe or not), so a load gives every label its id back.
absl::StatusOr<EncodedLabels> EncodeFrameFieldValues(
    const google::protobuf::RepeatedPtrField<labelport::v1::FrameFieldValue>& frames,
    const EncodeContext& context, bool only_keyframes);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_ENCODER_H_
