// FiftyOne keypoint skeletons ↔ V7 skeleton annotations (darwin-api §2.3
// E14, §7.4).
//
// A keypoints field with a skeleton (FieldSchema.skeleton, from FiftyOne's
// `dataset.skeletons[field]` or `default_skeleton`) uses V7 `skeleton`
// classes: the class's `metadata.skeleton` lists one node per skeleton label
// (point i is the node named labels[i], or "i" without a label) and one edge
// per consecutive pair of each FiftyOne edge. Each Keypoint is one skeleton
// annotation whose nodes carry its points in pixels; a missing point (NaN)
// is an `occluded` node, and an occluded node comes back as a missing point.
// Per-point confidences have no place in a skeleton: the load restores them
// from the upload snapshot.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_SKELETON_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_SKELETON_H_

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "service/backend/darwin/darwin_json.h"

namespace labelport::backend::darwin {

// The V7 node name of point `index`.
std::string SkeletonNodeName(const labelport::v1::KeypointSkeleton& skeleton, int index);

// The `metadata` of a V7 skeleton class for `skeleton`: `_color` and
// `skeleton` {nodes [{name, x, y}] laid out on a circle, edges [{from, to}]}.
boost::json::object SkeletonClassMetadata(const labelport::v1::KeypointSkeleton& skeleton);

// The `skeleton` body of `keypoint` on a `width` x `height` image.
boost::json::object SkeletonBody(const labelport::v1::Keypoint& keypoint,
                                 const labelport::v1::KeypointSkeleton& skeleton, int width,
                                 int height);

// The relative points of skeleton `nodes` (pixels), by the skeleton's node
// order; nodes of names the skeleton lacks are appended in their order (all
// of them, in order, without a skeleton). Missing and occluded nodes are NaN.
std::vector<labelport::v1::Point> SkeletonPoints(const std::vector<SkeletonNode>& nodes,
                                                 const labelport::v1::KeypointSkeleton* skeleton,
                                                 double width, double height);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_SKELETON_H_
