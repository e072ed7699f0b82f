// Uniform access to the individual labels inside a FieldValue.
#ifndef LABELPORT_SERVICE_CORE_FIELD_VALUES_H_
#define LABELPORT_SERVICE_CORE_FIELD_VALUES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "labelport/v1/labels.pb.h"

namespace labelport::core {

using AttributeMap = google::protobuf::Map<std::string, labelport::v1::AttributeValue>;

// A read-only view of one label of any type. Valid while the FieldValue lives.
struct LabelView {
  absl::string_view id;
  absl::string_view label;
  const AttributeMap* attributes = nullptr;
  bool has_mask = false;         // Detection only.
  bool filled = false;           // Polyline only.
  std::optional<bool> keyframe;  // unset when not given.
};

// The labels of a field value (one for single-label types), in order.
std::vector<LabelView> LabelsOf(const labelport::v1::FieldValue& value);

// Keeps only the labels that belong to `schema_type` when a FiftyOne field
// class has several candidate types: "detection(s)" keeps labels without a
// mask, "instance(s)" those with one, "polygon(s)" filled polylines and
// "polyline(s)" open ones. Other types keep everything. A single-label value
// that does not belong is cleared.
void FilterForSchemaType(absl::string_view schema_type, labelport::v1::FieldValue* value);

// Python-style rendering of an attribute value ('a', 1, 2.5, True, None, [..]),
// as FiftyOne's messages print values. For error messages: strings are
// shortened by common::Excerpt and lists show at most their first 32 values.
std::string PyRepr(const labelport::v1::AttributeValue& value);

// What makes an attribute value too large, if anything: a string longer
// than kMaxTextLength bytes, lists holding more than kMaxValuesPerAttribute
// values in all, or lists nested deeper than kMaxAttributeValueDepth.
// Empty when the value is within its limits.
std::string AttributeValueProblem(const labelport::v1::AttributeValue& value);

// Whether two attribute values are equal (type and value).
bool SameValue(const labelport::v1::AttributeValue& a, const labelport::v1::AttributeValue& b);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_FIELD_VALUES_H_
