// Converts one exported V7 item (Darwin JSON 2.0, pixels) back into FiftyOne
// labels per schema field (relative coordinates), with stable ids
// (spec: annotation-semantics §5.7 with the [fix] items, DESIGN.md §4):
//
//  - An annotation the run uploaded is found through its AnnotationLink and
//    comes back under the client's label id, starting from the snapshot
//    label (so tags, confidence and non-schema attributes V7 does not carry
//    survive), with V7's class, geometry, instance id (→ index), inference
//    confidence and schema attributes (select properties, text) applied.
//    Parts are regrouped: the points of a multi-point keypoint (missing ones
//    NaN) and the shapes of a multi-shape polyline.
//  - A new annotation gets the id DerivedLabelId(annotation id) and goes to
//    the schema field whose Darwin type matches and whose classes contain its
//    class; ties go to the first such field in schema order; with no field of
//    its type it is "unexpected" in the first field, under its return type.
//  - Polygons become Polyline(closed=true, filled=true) in polygon fields.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_DECODER_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_DECODER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/darwin/darwin_json.h"

namespace labelport::backend::darwin {

// A 24-hex id (valid as a FiftyOne ObjectId) derived from a V7 annotation id.
std::string DerivedLabelId(absl::string_view annotation_id);

// The FiftyOne return type of a Darwin main type ("" if none).
std::string ReturnTypeOfDarwinType(absl::string_view darwin_type);

// Decodes `item` for `snapshot` (the sample's labels as last known). `links`
// maps annotation ids to the labels they were made from. Returns one
// LoadedField per schema field, in schema order. `skipped` receives
// annotations that cannot be used (with reasons).
absl::StatusOr<LoadedSample> DecodeItem(
    const ExportedItem& item, const labelport::v1::Sample& snapshot,
    const labelport::v1::LabelSchema& schema,
    const std::map<std::string, labelport::internal::v1::AnnotationLink>& links,
    std::vector<labelport::v1::SkippedEntry>* skipped);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_ANNOTATION_DECODER_H_
