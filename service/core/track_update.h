// FiftyOne's track update for trackable frame-level fields (`_update_tracks`,
// spec: annotation-semantics §4.4, checklist item 55), run on one sample's
// downloaded frames before the merge:
//
//  - each downloaded track index is mapped to an existing index of the
//    sample: the index of any existing label whose id a label of that track
//    carries (the smallest when the track holds labels of several existing
//    tracks, i.e. tracks merged in the backend); unmatched indexes get
//    max + 1, max + 2, ... in ascending order (max over the sample's existing
//    labels of the field, 0 when none);
//  - a downloaded label that lands on (frame, mapped index) where an
//    existing label is inherits that label's id (this is how interpolated
//    frames of keyframe-only runs merge), unless another downloaded label of
//    the frame already has that id;
//  - when the field existed and the run did not use keyframes
//    (only_keyframes false), the downloaded `keyframe` flags are removed; new
//    fields (and destination fields) keep them.
// Labels without an index are left alone.
#ifndef LABELPORT_SERVICE_CORE_TRACK_UPDATE_H_
#define LABELPORT_SERVICE_CORE_TRACK_UPDATE_H_

#include <vector>

#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::core {

// `baseline`: the sample's existing labels of the field, per frame.
// `downloaded`: updated in place. With `as_new` (a destination field) the
// keyframe flags are kept.
void UpdateTracks(const labelport::v1::FieldSchema& field,
                  const std::vector<labelport::v1::FrameFieldValue>& baseline,
                  std::vector<labelport::v1::FrameFieldValue>* downloaded, bool as_new);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_TRACK_UPDATE_H_
