// Builds and validates the normalised label schema of a run, following
// FiftyOne's `annotate()` rules (spec: annotation-semantics §2 and checklist
// items 5, 18-35) for the run's backend: the label and attribute types it
// accepts, and the name its messages give it, are the backend's
// Capabilities() (for V7: service/backend/darwin/darwin_capabilities.h).
#ifndef LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_
#define LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_service.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/backend_capabilities.h"

namespace labelport::core {

struct BuiltSchema {
  // Normalised: every field has type, classes, attributes (as specs) and
  // existing_field; allow_* and only_keyframes only where they apply.
  labelport::v1::LabelSchema schema;
  // FiftyOne's warnings (e.g. a field with several candidate types).
  std::vector<std::string> warnings;
};

// Builds the schema of a run whose samples arrive in batches (CreateRun
// streams them), in three steps:
//  - Create validates the schema input of `header` (everything that does not
//    depend on the labels) for the run's media type and `backend` (label
//    and attribute types outside its capabilities are refused, naming the
//    backend and the types it supports);
//  - Observe, for each batch, filters the labels of fields whose FiftyOne
//    class has several candidate types (e.g. masked detections leave a
//    `detections` field, exactly as FiftyOne filters the collection) and
//    gathers what the labels tell: classes and attributes where the schema
//    infers them, keyframes;
//  - Finish returns the normalised schema.
// What is gathered is bounded (kMaxClassesPerField / kMaxClassesPerRun
// inferred classes, kMaxAttributesPerField / kMaxAttributesPerRun inferred
// attributes; Observe fails beyond), so memory does not grow with the run.
//
// Errors: INVALID_ARGUMENT naming the schema field path and the rule, with
// FiftyOne's message wording. Not thread-safe.
class LabelSchemaBuilder {
 public:
  static absl::StatusOr<LabelSchemaBuilder> Create(const labelport::v1::CreateRunHeader& header,
                                                   labelport::v1::MediaType media_type,
                                                   const backend::BackendCapabilities& backend);
  ~LabelSchemaBuilder();
  LabelSchemaBuilder(LabelSchemaBuilder&&) noexcept;
  LabelSchemaBuilder& operator=(LabelSchemaBuilder&&) noexcept;

  // The schema before any label was seen: each field's name, type and
  // existing_field are final (what ValidateSampleLabelsBatch needs); inferred
  // classes, attributes and only_keyframes are not yet known.
  const labelport::v1::LabelSchema& fields() const;

  // Filters and observes the labels of `batch` (modified in place).
  absl::Status Observe(std::vector<labelport::v1::Sample>& batch);

  // The normalised schema after every batch was observed.
  absl::StatusOr<BuiltSchema> Finish() const;

 private:
  struct State;
  explicit LabelSchemaBuilder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// All at once: Create, Observe(samples), Finish.
absl::StatusOr<BuiltSchema> BuildLabelSchema(const labelport::v1::CreateRunHeader& header,
                                             labelport::v1::MediaType media_type,
                                             const backend::BackendCapabilities& backend,
                                             std::vector<labelport::v1::Sample>& samples);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LABEL_SCHEMA_BUILDER_H_
