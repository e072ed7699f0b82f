// Annotator: edits an item's annotations "as a human annotator" for the
// /_sim/items/{id}/annotations control endpoints. Shapes are given in a
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

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_ANNOTATOR_H_
