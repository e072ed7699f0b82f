// The annotation import of the upload job, its pure part: whether a sample
// has labels to import, and the import request (annotations with
// deterministic ids) and annotation links of one sample.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_IMPORT_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_IMPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/annotation_encoder.h"

namespace labelport::backend::darwin {

// Whether some field of `sample` holds a value (sample- or frame-level).
bool HasLabels(const labelport::v1::Sample& sample);

// The resolved properties of the run's classes, by (class id, attribute).
using ResolvedProperties = std::map<std::pair<int64_t, std::string>, ResolvedProperty>;

// The annotations to import for `sample` of `run` (fields not in its schema
// are ignored) and their links, given its processed record `record` (item
// id, V7's measured size and frame count), the run's class ids
// (DarwinRunState::class_ids) and properties. INVALID_ARGUMENT naming the
// sample and field when a frame lies beyond the frames V7 found in the
// video; the encoder's error when a label cannot be expressed (e.g. its
// class has no V7 class: NOT_FOUND).
absl::StatusOr<EncodedLabels> EncodeSampleLabels(
    const labelport::v1::Sample& sample, const labelport::internal::v1::SampleProgress& record,
    const labelport::v1::AnnotationRun& run,
    const google::protobuf::Map<std::string, int64_t>& class_ids,
    const ResolvedProperties& properties);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_IMPORT_H_
