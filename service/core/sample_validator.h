// Validation of the samples of a CreateRun request.
#ifndef LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_
#define LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::core {

// Checks what does not depend on the schema: unique non-empty sample ids,
// a valid media reference of every kind, one media type for all samples
// (image or video). Returns that media type.
// With `media_roots` (the tenant's, normalised), a server path must also lie
// lexically beneath one of them, without ".." (common::MatchMediaRoot; no
// file is touched): PERMISSION_DENIED, reason MEDIA_PATH_NOT_ALLOWED, naming
// "samples[i].media.path". Null: not checked here (the upload still is).
// Errors: INVALID_ARGUMENT naming "samples[i]..." and the sample id.
absl::StatusOr<labelport::v1::MediaType> ValidateSampleMedia(
    const std::vector<labelport::v1::Sample>& samples, const labelport::v1::DarwinOptions& darwin,
    const std::vector<std::string>* media_roots = nullptr);

// Checks the existing labels against the normalised schema: every field is in
// the schema and existed before the run, holds the FiftyOne class of its type,
// frame-level fields carry frames (1-based, unique) and sample-level fields do
// not; label ids are non-empty and unique in the run; classes are non-empty;
// geometry is well formed (4 finite box values, finite points, keypoint
// confidences matching the points).
absl::Status ValidateSampleLabels(const std::vector<labelport::v1::Sample>& samples,
                                  const labelport::v1::LabelSchema& schema);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_
