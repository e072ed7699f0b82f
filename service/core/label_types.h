// FiftyOne label-schema types (spec: annotation-semantics §2.3, §2.4, §2.8).
// Which of them a backend supports is its BackendCapabilities
// (service/backend/backend_capabilities.h).
#ifndef LABELPORT_SERVICE_CORE_LABEL_TYPES_H_
#define LABELPORT_SERVICE_CORE_LABEL_TYPES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "labelport/v1/labels.pb.h"

namespace labelport::core {

// The return type of a schema type ("detections" for "detection", ...);
// nullopt for an unknown type.
std::optional<std::string> ReturnTypeOf(absl::string_view schema_type);

// Whether labels of this return type carry a `label` (all but scalar/segmentation).
bool ReturnTypeHasLabel(absl::string_view return_type);
// Whether labels of this return type are spatial.
bool ReturnTypeIsSpatial(absl::string_view return_type);
// Whether a field is trackable: frame-level with a detections, polylines or
// keypoints return type.
bool IsTrackable(absl::string_view field, absl::string_view return_type);
// Whether the field is frame-level ("frames." prefix).
bool IsFrameField(absl::string_view field);

// Candidate schema types of an existing field of FiftyOne document class
// `document_type` (e.g. "Detections" -> {"detections", "instances"}).
// nullopt when the class is not a label class FiftyOne knows.
std::optional<std::vector<std::string>> CandidateTypesOf(absl::string_view document_type);
// Whether `document_type` names a FiftyOne scalar field class.
bool IsScalarDocumentType(absl::string_view document_type);

// The FieldValue case a schema type's field holds (kDetections for
// "detections" and "instances", kPolyline for "polygon", ...).
labelport::v1::FieldValue::ValueCase FieldValueCaseOf(absl::string_view schema_type);
// FiftyOne's class name for a FieldValue case ("Detections", ...).
std::string DocumentTypeName(labelport::v1::FieldValue::ValueCase value_case);

// Renders strings as a Python list literal, as FiftyOne's messages do:
// ['a', 'b']. For error messages: each string is shortened by
// common::Excerpt, and at most the first 32 are shown.
std::string PyList(const std::vector<std::string>& values);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LABEL_TYPES_H_
