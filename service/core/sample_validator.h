// Validation of the samples of a CreateRun request.
//
// A run's samples arrive in batches (CreateRun streams them); every check
// here works on one batch, given the position of its first sample in the run
// so that error paths ("samples[i]...") name run positions. What spans
// batches is the caller's: the media type (passed in and out), and sample
// and label ids unique in the run (checked here within the batch; across
// batches by the store, whose conflicts DuplicateSampleIdError and
// DuplicateLabelIdError turn into the same errors).
//
// Bounds (service/core/limits.h) and coordinates: every string and list has
// a length limit; coordinates are relative to the image (FiftyOne's
// convention: [0, 1], origin top-left, boxes [x, y, width, height]) and must
// be finite, within kCoordinateSlack of the image, and describe a label that
// touches the image. A label partly outside the image is accepted: the
// encoder clips it to the image when it goes to V7 (see README "Coordinates").
#ifndef LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_
#define LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::core {

// Checks what does not depend on the schema: non-empty sample ids unique in
// the batch, a valid media reference of every kind, one media type for all
// samples (image or video). `media_type` is the run's media type so far
// (UNSPECIFIED before its first batch); on success it is the run's.
// With `media_roots` (the tenant's, normalised), a server path must also lie
// lexically beneath one of them, without ".." (common::MatchMediaRoot; no
// file is touched): PERMISSION_DENIED, reason MEDIA_PATH_NOT_ALLOWED, naming
// "samples[i].media.path". Null: not checked here (the upload still is).
// Errors: INVALID_ARGUMENT naming "samples[i]..." and the sample id.
absl::Status ValidateSampleMediaBatch(const std::vector<labelport::v1::Sample>& batch,
                                      size_t first_index,
                                      const labelport::v1::DarwinOptions& darwin,
                                      labelport::v1::MediaType& media_type,
                                      const std::vector<std::string>* media_roots = nullptr);

// ValidateSampleMediaBatch of all the samples of a run, as one batch.
absl::StatusOr<labelport::v1::MediaType> ValidateSampleMedia(
    const std::vector<labelport::v1::Sample>& samples, const labelport::v1::DarwinOptions& darwin,
    const std::vector<std::string>* media_roots = nullptr);

// Checks the existing labels against the normalised schema: every field is in
// the schema and existed before the run, holds the FiftyOne class of its type,
// frame-level fields carry frames (1-based, unique) and sample-level fields do
// not; label ids are non-empty and unique in the batch; classes are
// non-empty; strings and lists are within their limits; geometry is well
// formed (4 finite box values with non-negative size, finite points, keypoint
// confidences matching the points) and near the image.
// When `label_ids` is given, the batch's label ids are appended to it in
// order (for the store's run-wide uniqueness check).
absl::Status ValidateSampleLabelsBatch(const std::vector<labelport::v1::Sample>& batch,
                                       size_t first_index, const labelport::v1::LabelSchema& schema,
                                       std::vector<std::string>* label_ids = nullptr);

// ValidateSampleLabelsBatch of all the samples of a run, as one batch.
absl::Status ValidateSampleLabels(const std::vector<labelport::v1::Sample>& samples,
                                  const labelport::v1::LabelSchema& schema);

// The error for sample id `sample_id` of `batch` (whose first sample is at
// run position `first_index`) appearing earlier in the run: the error
// ValidateSampleMedia gives for a repeated id.
absl::Status DuplicateSampleIdError(const std::vector<labelport::v1::Sample>& batch,
                                    size_t first_index, absl::string_view sample_id);

// The error for label id `label_id` of `batch` appearing earlier in the run:
// the error ValidateSampleLabels gives for a repeated label id.
absl::Status DuplicateLabelIdError(const std::vector<labelport::v1::Sample>& batch,
                                   size_t first_index, absl::string_view label_id);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_SAMPLE_VALIDATOR_H_
