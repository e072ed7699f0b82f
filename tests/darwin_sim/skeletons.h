// Keypoint skeletons as V7 keeps them (darwin-api §2.3 E14, §7.4): a
// skeleton class carries `metadata.skeleton` = {"nodes": [{"name", "x", "y"}],
// "edges": [{"from", "to"}]} (node names unique, edges between them), and a
// `skeleton` annotation lists nodes {"name", "occluded", "x", "y"} named after
// its class's nodes.
#ifndef LABELPORT_TESTS_DARWIN_SIM_SKELETONS_H_
#define LABELPORT_TESTS_DARWIN_SIM_SKELETONS_H_

#include "absl/status/status.h"
#include "boost/json.hpp"
#include "state.h"

namespace labelport::darwin_sim {

// Validates a skeleton class's metadata. InvalidArgument names the rule.
absl::Status ValidateSkeletonMetadata(const boost::json::object& metadata);

// Validates a `skeleton` body against its class (InvalidArgument for a body
// that is not {"nodes": [...]}, a node without a name in the class's
// skeleton or without numeric x, y, or a node named twice).
absl::Status ValidateSkeletonData(const AnnotationClass& cls, const boost::json::value& body);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_SKELETONS_H_
