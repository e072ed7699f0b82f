// Builds and validates the normalised label schema of a run, following
// FiftyOne's `annotate()` rules for the darwin backend
// (spec: annotation-semantics §2 and checklist items 5, 18-35).
#ifndef LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_
#define LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_service.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::core {

struct BuiltSchema {
  // Normalised: every field has type, classes, attributes (as specs) and
  // existing_field; allow_* and only_keyframes only where they apply.
  labelport::v1::LabelSchema schema;
  // FiftyOne's warnings (e.g. a field with several candidate types).
  std::vector<std::string> warnings;
};

// Validates `header`'s schema input against the existing fields it declares
// and the labels in `samples`, and returns the normalised schema.
//
// `samples` is modified: for existing fields whose FiftyOne class has several
// candidate types, labels that do not belong to the chosen type are removed
// (e.g. masked detections from a `detections` field), exactly as FiftyOne
// filters the collection. `media_type` is the collection's media type.
//
// Errors: INVALID_ARGUMENT naming the schema field path and the rule, with
// FiftyOne's message wording.
absl::StatusOr<BuiltSchema> BuildLabelSchema(const labelport::v1::CreateRunHeader& header,
                                             labelport::v1::MediaType media_type,
                                             std::vector<labelport::v1::Sample>& samples);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_
