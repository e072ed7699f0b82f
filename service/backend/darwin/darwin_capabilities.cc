#include "service/backend/darwin/darwin_capabilities.h"

namespace labelport::backend::darwin {

const BackendCapabilities& DarwinCapabilities() {
  static const auto* const kCapabilities = new BackendCapabilities{
      .name = "darwin",
      .label_types = {"classification", "classifications", "detection", "detections", "instance",
                      "instances", "polygon", "polygons", "polyline", "polylines", "keypoint",
                      "keypoints", "segmentation"},
      .attribute_types = {"text", "instance_id", "single_select", "multi_select"},
      .attribute_types_with_values = {"single_select", "multi_select"},
  };
  return *kCapabilities;
}

}  // namespace labelport::backend::darwin
