#include "service/core/label_types.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/errors.h"

namespace labelport::core {
namespace {

using ValueCase = labelport::v1::FieldValue::ValueCase;

const std::map<std::string, std::string, std::less<>>& ReturnTypes() {
  static const auto* const kTypes = new std::map<std::string, std::string, std::less<>>{
      {"classification", "classifications"},
      {"classifications", "classifications"},
      {"detection", "detections"},
      {"detections", "detections"},
      {"instance", "detections"},
      {"instances", "detections"},
      {"polyline", "polylines"},
      {"polylines", "polylines"},
      {"polygon", "polylines"},
      {"polygons", "polylines"},
      {"keypoint", "keypoints"},
      {"keypoints", "keypoints"},
      {"segmentation", "segmentation"},
      {"scalar", "scalar"},
  };
  return *kTypes;
}

// The label document types with their FieldValue case and the schema types
// (label_type) that hold them, in the order CandidateTypesOf gives them.
struct LabelDocumentType {
  ValueCase value_case;
  absl::string_view document_type;
  std::vector<std::string> schema_types;
};

const std::vector<LabelDocumentType>& LabelDocumentTypes() {
  static const auto* const kTypes = new std::vector<LabelDocumentType>{
      {ValueCase::kClassification, "Classification", {"classification"}},
      {ValueCase::kClassifications, "Classifications", {"classifications"}},
      {ValueCase::kDetection, "Detection", {"detection", "instance"}},
      {ValueCase::kDetections, "Detections", {"detections", "instances"}},
      {ValueCase::kPolyline, "Polyline", {"polygon", "polyline"}},
      {ValueCase::kPolylines, "Polylines", {"polygons", "polylines"}},
      {ValueCase::kKeypoint, "Keypoint", {"keypoint"}},
      {ValueCase::kKeypoints, "Keypoints", {"keypoints"}},
      {ValueCase::kSegmentation, "Segmentation", {"segmentation"}},
  };
  return *kTypes;
}

bool Contains(const std::vector<std::string>& values, absl::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

}  // namespace

std::optional<std::string> ReturnTypeOf(absl::string_view schema_type) {
  auto it = ReturnTypes().find(schema_type);
  if (it == ReturnTypes().end()) return std::nullopt;
  return it->second;
}

bool ReturnTypeHasLabel(absl::string_view return_type) {
  return return_type == "classifications" || return_type == "detections" ||
         return_type == "polylines" || return_type == "keypoints";
}

bool ReturnTypeIsSpatial(absl::string_view return_type) {
  return return_type == "detections" || return_type == "polylines" || return_type == "keypoints" ||
         return_type == "segmentation";
}

bool IsFrameField(absl::string_view field) { return absl::StartsWith(field, "frames."); }

bool IsTrackable(absl::string_view field, absl::string_view return_type) {
  return IsFrameField(field) &&
         (return_type == "detections" || return_type == "polylines" || return_type == "keypoints");
}

std::optional<std::vector<std::string>> CandidateTypesOf(absl::string_view document_type) {
  for (const LabelDocumentType& type : LabelDocumentTypes()) {
    if (type.document_type == document_type) return type.schema_types;
  }
  return std::nullopt;
}

bool IsScalarDocumentType(absl::string_view document_type) {
  static const auto* const kScalars =
      new std::vector<std::string>{"IntField",  "FloatField",    "StringField",   "BooleanField",
                                   "DateField", "DateTimeField", "ObjectIdField", "ListField"};
  return Contains(*kScalars, document_type);
}

ValueCase FieldValueCaseOf(absl::string_view schema_type) {
  for (const LabelDocumentType& type : LabelDocumentTypes()) {
    if (Contains(type.schema_types, schema_type)) return type.value_case;
  }
  return ValueCase::VALUE_NOT_SET;
}

std::string DocumentTypeName(ValueCase value_case) {
  for (const LabelDocumentType& type : LabelDocumentTypes()) {
    if (type.value_case == value_case) return std::string(type.document_type);
  }
  return "None";
}

std::string PyList(const std::vector<std::string>& values) {
  constexpr size_t kShown = 32;
  std::string out = "[";
  for (size_t i = 0; i < values.size() && i < kShown; ++i)
    absl::StrAppend(&out, i == 0 ? "'" : ", '", common::Excerpt(values[i]), "'");
  if (values.size() > kShown) absl::StrAppend(&out, ", ...(", values.size(), " values)");
  return absl::StrCat(out, "]");
}

}  // namespace labelport::core
