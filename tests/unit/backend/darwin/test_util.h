// Helpers shared by the labelport_darwin unit tests: text-format protos,
// builders of labels, field values, samples and field schemas (with the
// tests' vehicle class group), the encode context of the test sample and the
// Darwin JSON 2.0 export file the round-trip tests decode.
#ifndef LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_
#define LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "tests/unit/common/box_label.h"
#include "tests/unit/common/text_proto.h"

namespace labelport::backend::darwin::testing {

// Parses a text-format proto; fails the test on a syntax error.
using ::labelport::testing::Parse;

// A text-format FieldValue.
inline labelport::v1::FieldValue Value(const std::string& text) {
  return Parse<labelport::v1::FieldValue>(text);
}

// A detection `id` labelled `label` over the relative box (x, y, w, h).
using ::labelport::testing::BoxLabel;

// Points (x, y) in relative coordinates; NaN for a missing keypoint.
using Points = std::vector<std::pair<double, double>>;

// A polyline `id` labelled `label` with one shape per element of `shapes`.
inline labelport::v1::Polyline PolylineLabel(const std::string& id, const std::string& label,
                                             const std::vector<Points>& shapes) {
  labelport::v1::Polyline p;
  p.set_id(id);
  p.set_label(label);
  for (const Points& shape : shapes) {
    labelport::v1::Shape* s = p.add_points();
    for (const auto& [x, y] : shape) {
      labelport::v1::Point* point = s->add_points();
      point->set_x(x);
      point->set_y(y);
    }
  }
  return p;
}

// A keypoint `id` labelled `label` at `points`, with the per-point
// `confidence` when given.
inline labelport::v1::Keypoint KeypointLabel(const std::string& id, const std::string& label,
                                             const Points& points,
                                             const std::vector<double>& confidence = {}) {
  labelport::v1::Keypoint k;
  k.set_id(id);
  k.set_label(label);
  for (const auto& [x, y] : points) {
    labelport::v1::Point* point = k.add_points();
    point->set_x(x);
    point->set_y(y);
  }
  for (double c : confidence) k.add_confidence(c);
  return k;
}

// `label` with the attributes `attributes` (name → text-format
// AttributeValue) added.
template <typename L>
L WithAttributes(L label, const std::map<std::string, std::string>& attributes) {
  for (const auto& [name, value] : attributes)
    (*label.mutable_attributes())[name] = Parse<labelport::v1::AttributeValue>(value);
  return label;
}

// A FieldValue holding `labels` (Detection, Polyline or Keypoint) in its
// list of that kind, in order.
template <typename L>
labelport::v1::FieldValue ListValue(const std::vector<L>& labels) {
  labelport::v1::FieldValue value;
  for (const L& label : labels) {
    if constexpr (std::is_same_v<L, labelport::v1::Detection>) {
      *value.mutable_detections()->add_detections() = label;
    } else if constexpr (std::is_same_v<L, labelport::v1::Polyline>) {
      *value.mutable_polylines()->add_polylines() = label;
    } else {
      static_assert(std::is_same_v<L, labelport::v1::Keypoint>);
      *value.mutable_keypoints()->add_keypoints() = label;
    }
  }
  return value;
}

// ListValue for each kind, so that a braced list of labels can be passed.
inline labelport::v1::FieldValue DetectionsValue(const std::vector<labelport::v1::Detection>& d) {
  return ListValue(d);
}
inline labelport::v1::FieldValue PolylinesValue(const std::vector<labelport::v1::Polyline>& p) {
  return ListValue(p);
}
inline labelport::v1::FieldValue KeypointsValue(const std::vector<labelport::v1::Keypoint>& k) {
  return ListValue(k);
}

// One field of a sample holding one classification.
struct ClassifiedField {
  std::string field;
  std::string label_id;
  std::string label;
};

// A sample `id` with `fields`, each holding its classification.
inline labelport::v1::Sample ClassifiedSample(const std::string& id,
                                              const std::vector<ClassifiedField>& fields) {
  labelport::v1::Sample sample;
  sample.set_id(id);
  for (const ClassifiedField& f : fields) {
    labelport::v1::SampleField* field = sample.add_fields();
    field->set_field(f.field);
    labelport::v1::Classification* c = field->mutable_value()->mutable_classification();
    c->set_id(f.label_id);
    c->set_label(f.label);
  }
  return sample;
}

// The schema of field `field` of `type` listing the plain `classes`.
inline labelport::v1::FieldSchema FieldSchemaOf(const std::string& field, const std::string& type,
                                                const std::vector<std::string>& classes) {
  labelport::v1::FieldSchema schema;
  schema.set_field(field);
  schema.set_type(type);
  for (const auto& name : classes) schema.mutable_classes()->add_entries()->set_name(name);
  return schema;
}

// A class group of `classes` with the tests' vehicle attributes:
// single-select "color" {red, blue}, single-select "doors" {2, 4} of
// annotation granularity, multi-select "parts" {door, wheel} and text "plate".
inline labelport::v1::ClassEntry VehicleGroup(const std::vector<std::string>& classes) {
  auto entry = Parse<labelport::v1::ClassEntry>(R"pb(
    group {
      attributes {
        specs {
          specs {
            name: "color"
            type: "single_select"
            values { string_value: "red" }
            values { string_value: "blue" }
          }
          specs {
            name: "doors"
            type: "single_select"
            values { int_value: 2 }
            values { int_value: 4 }
            granularity: "annotation"
          }
          specs {
            name: "parts"
            type: "multi_select"
            values { string_value: "door" }
            values { string_value: "wheel" }
          }
          specs { name: "plate" type: "text" }
        }
      }
    })pb");
  for (const auto& name : classes) entry.mutable_group()->mutable_classes()->add_names(name);
  return entry;
}

// V7 class ids by (class name, Darwin type).
using ClassIds = std::map<std::pair<std::string, std::string>, int64_t>;

// The EncodeContext of the tests' sample: run "run-1", sample "sample-1",
// item "item-1", a `width` x `height` image; classes resolved in
// `*class_ids` (NOT_FOUND naming the class otherwise; it must outlive the
// context), no properties. The caller sets `field`.
inline EncodeContext TestEncodeContext(const ClassIds* class_ids, int width, int height) {
  EncodeContext c;
  c.width = width;
  c.height = height;
  c.run_uid = "run-1";
  c.sample_id = "sample-1";
  c.item_id = "item-1";
  c.class_id = [class_ids](const std::string& name,
                           const std::string& type) -> absl::StatusOr<int64_t> {
    auto it = class_ids->find({name, type});
    if (it == class_ids->end())
      return absl::NotFoundError(absl::StrCat("no class ", name, "/", type));
    return it->second;
  };
  c.property = [](int64_t, const std::string&) -> std::optional<ResolvedProperty> {
    return std::nullopt;
  };
  return c;
}

// Slot "0" of an export: `type` ("image", "video") of `width` x `height`
// pixels.
inline boost::json::object ExportSlot(const std::string& type, int width, int height) {
  return {{"slot_name", "0"}, {"type", type}, {"width", width}, {"height", height}};
}

// The Darwin JSON 2.0 file V7 exports for item "item-1" named `name` in
// folder `path`, with the one slot `slot` and `annotations`.
inline std::string ExportFileJson(const std::string& name, const std::string& path,
                                  boost::json::object slot, boost::json::array annotations) {
  boost::json::object file{
      {"version", "2.0"},
      {"item", boost::json::object{{"name", name},
                                   {"path", path},
                                   {"source_info", boost::json::object{{"item_id", "item-1"}}},
                                   {"slots", boost::json::array{std::move(slot)}}}},
      {"annotations", std::move(annotations)}};
  return boost::json::serialize(file);
}

}  // namespace labelport::backend::darwin::testing

#endif  // LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_
