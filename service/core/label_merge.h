// FiftyOne's merge of downloaded labels into a field (spec:
// annotation-semantics §4.3, checklist items 37-48), computed by the service
// so every client gets the same answer:
//
//  - labels only in the baseline are deleted (if allow_deletions);
//  - labels only in the download are added (if allow_additions; a
//    single-label field takes one only when it is empty or its label was
//    deleted in the same load);
//  - labels in both are merged in place: `label` (allow_label_edits), `index`
//    (allow_index_edits), geometry (allow_spatial_edits), `keyframe`
//    (only_keyframes) and the schema attributes of the label's class (set to
//    the downloaded value, or removed when the download lacks it; read_only
//    ones untouched) are copied; id, confidence, tags and other attributes
//    are kept;
//  - a segmentation (one mask per field) is merged as a whole: with
//    allow_spatial_edits the downloaded mask replaces the pixels, while its
//    id, tags and attributes stay.
// Flags absent from the schema (new fields, dest fields) default to true.
#ifndef LABELPORT_SERVICE_CORE_LABEL_MERGE_H_
#define LABELPORT_SERVICE_CORE_LABEL_MERGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::core {

struct FieldMerge {
  labelport::v1::FieldValue merged;
  std::vector<std::string> added;
  std::vector<std::string> edited;
  std::vector<std::string> deleted;
  int64_t unchanged = 0;
  // Changes refused by allow_* flags (additions, deletions).
  int64_t ignored_added = 0;
  int64_t ignored_deleted = 0;
};

// Merges `downloaded` into `baseline` for `field`. With `as_new` (dest
// fields), every flag is true.
FieldMerge MergeFieldValue(const labelport::v1::FieldSchema& field,
                           const labelport::v1::FieldValue& baseline,
                           const labelport::v1::FieldValue& downloaded, bool as_new = false);

// The merge of one (sample, frame-level field): the result per frame.
struct FrameMerge {
  int32_t frame_number = 0;
  // The client's frame id, when the snapshot or the download knows it.
  std::string frame_id;
  // The downloaded labels of the frame after the track update.
  labelport::v1::FieldValue downloaded;
  FieldMerge merge;
};

// Merges a frame-level field: for trackable fields (frame-level detections,
// polylines, polygons or keypoints) FiftyOne's track update runs first
// (track_update.h), then every frame present in the baseline or the download
// is merged like a sample-level value. Frames come back in ascending order.
std::vector<FrameMerge> MergeFrameFieldValues(
    const labelport::v1::FieldSchema& field,
    const std::vector<labelport::v1::FrameFieldValue>& baseline,
    std::vector<labelport::v1::FrameFieldValue> downloaded, bool as_new = false);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_LABEL_MERGE_H_
