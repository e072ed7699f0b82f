#include "service/core/label_types.h"

#include <algorithm>
#include <map>

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
  static const auto* const kCandidates =
      new std::map<std::string, std::vector<std::string>, std::less<>>{
          {"Classification", {"classification"}},
          {"Classifications", {"classifications"}},
          {"Detection", {"detection", "instance"}},
          {"Detections", {"detections", "instances"}},
          {"Polyline", {"polygon", "polyline"}},
          {"Polylines", {"polygons", "polylines"}},
          {"Keypoint", {"keypoint"}},
          {"Keypoints", {"keypoints"}},
          {"Segmentation", {"segmentation"}},
      };
  auto it = kCandidates->find(document_type);
  if (it == kCandidates->end()) return std::nullopt;
  return it->second;
}

bool IsScalarDocumentType(absl::string_view document_type) {
  static const auto* const kScalars =
      new std::vector<std::string>{"IntField",  "FloatField",    "StringField",   "BooleanField",
                                   "DateField", "DateTimeField", "ObjectIdField", "ListField"};
  return Contains(*kScalars, document_type);
}

ValueCase FieldValueCaseOf(absl::string_view schema_type) {
  if (schema_type == "classification") return ValueCase::kClassification;
  if (schema_type == "classifications") return ValueCase::kClassifications;
  if (schema_type == "detection" || schema_type == "instance") return ValueCase::kDetection;
  if (schema_type == "detections" || schema_type == "instances") return ValueCase::kDetections;
  if (schema_type == "polyline" || schema_type == "polygon") return ValueCase::kPolyline;
  if (schema_type == "polylines" || schema_type == "polygons") return ValueCase::kPolylines;
  if (schema_type == "keypoint") return ValueCase::kKeypoint;
  if (schema_type == "keypoints") return ValueCase::kKeypoints;
  if (schema_type == "segmentation") return ValueCase::kSegmentation;
  return ValueCase::VALUE_NOT_SET;
}

std::string DocumentTypeName(ValueCase value_case) {
  switch (value_case) {
    case ValueCase::kClassification:
      return "Classification";
    case ValueCase::kClassifications:
      return "Classifications";
    case ValueCase::kDetection:
      return "Detection";
    case ValueCase::kDetections:
      return "Detections";
    case ValueCase::kPolyline:
      return "Polyline";
    case ValueCase::kPolylines:
      return "Polylines";
    case ValueCase::kKeypoint:
      return "Keypoint";
    case ValueCase::kKeypoints:
      return "Keypoints";
    case ValueCase::kSegmentation:
      return "Segmentation";
    case ValueCase::VALUE_NOT_SET:
      break;
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
