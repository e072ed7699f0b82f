// Annotator: edits an item's annotations "as a human annotator" for the
// /_sim/items/{id}/annotations control endpoints, video tracks included
// (keyframes, ranges, hidden areas, split and merge; video_track.h). Shapes are given in a
// Darwin-JSON-like form and stored in V7's import format, so exports and E36
// see them exactly as if a person had drawn them in V7. Edits keep the
// annotation id, as V7 does. Callers hold Store's lock.
#ifndef LABELPORT_TESTS_DARWIN_SIM_ANNOTATOR_H_
#define LABELPORT_TESTS_DARWIN_SIM_ANNOTATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "boost/json.hpp"
#include "store.h"

namespace labelport::darwin_sim {

// The control view of one annotation:
// {"id", "class_id", "class_name", "type", "data", "slot_names",
//  "instance_id"?, "text"?, "properties": {name: value | [values]},
//  "authors": [{"email", "full_name", "role"}], "stored": <import format>}.
boost::json::object AnnotationView(const State& state, const Annotation& a);

// Adds an annotation from `{"class_name", "type", "data", "slot_name"?,
// "instance_id"?, "text"?, "properties"?, "author"?: {"email", "full_name"},
// "role"?}`. Creates the class (attached to the item's dataset) and missing
// properties/values. Errors: InvalidArgument for a bad type or shape.
absl::StatusOr<boost::json::object> AddAnnotationLocked(Store& store, Item& item,
                                                        const boost::json::object& req)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

// Edits annotation `annotation_id` of `item` from any subset of the fields
// above (a `class_name` renames: the class with that name and the same main
// type is used or created). Errors: NotFound for an unknown annotation id;
// InvalidArgument for a bad shape.
absl::StatusOr<boost::json::object> EditAnnotationLocked(Store& store, Item& item,
                                                         const std::string& annotation_id,
                                                         const boost::json::object& req)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

// Errors: NotFound for an unknown annotation id.
absl::Status DeleteAnnotationLocked(Store& store, Item& item, const std::string& annotation_id)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

// Splits video track `annotation_id` at `frame`: the track keeps the frames
// before `frame`, a new annotation (new id, same class, slot, sub-annotations,
// authors and annotation-level properties; section properties from `frame`
// on, with the values in effect at `frame`) takes the rest. Every frame keeps
// the shape it was exported with: keyframes are added at `frame` - 1 and
// `frame` where needed. Returns {"before": <view>, "after": <view>}.
// Errors: NotFound; InvalidArgument when the annotation is not a video track
// or `frame` does not have track frames both before and at/after it.
absl::StatusOr<boost::json::object> SplitTrackLocked(Store& store, Item& item,
                                                     const std::string& annotation_id,
                                                     int64_t frame)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

// Merges video track `other_id` into `annotation_id` and deletes `other_id`:
// keyframes of both (this one's win on the same frame), ranges joined,
// hidden areas of both, section properties of both (this one's win on the
// same frame), authors of both; class, id, slot and `interpolated` of this
// one. Ranges starting without a keyframe get one with the shape shown there
// before the merge. Errors: NotFound; InvalidArgument for non-video
// annotations, the same id twice, different main types or slots.
absl::StatusOr<boost::json::object> MergeTracksLocked(Store& store, Item& item,
                                                      const std::string& annotation_id,
                                                      const std::string& other_id)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu());

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_ANNOTATOR_H_
