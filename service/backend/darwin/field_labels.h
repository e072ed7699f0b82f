// Visiting the individual labels of a FieldValue (the backend's own: it does
// not depend on service/core, whose LabelsOf gives read-only views).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_FIELD_LABELS_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_FIELD_LABELS_H_

#include "labelport/v1/labels.pb.h"

namespace labelport::backend::darwin {

// Calls `f(label)` for each label of `value` (the one label of a single-label
// type), in order; `f` takes each of Classification, Detection, Polyline and
// Keypoint. A Segmentation is not visited: it has no class (its classes are
// the field's mask targets).
template <typename F>
void ForEachLabel(const labelport::v1::FieldValue& value, F&& f) {
  using labelport::v1::FieldValue;
  switch (value.value_case()) {
    case FieldValue::kClassification:
      f(value.classification());
      break;
    case FieldValue::kClassifications:
      for (const auto& l : value.classifications().classifications()) f(l);
      break;
    case FieldValue::kDetection:
      f(value.detection());
      break;
    case FieldValue::kDetections:
      for (const auto& l : value.detections().detections()) f(l);
      break;
    case FieldValue::kPolyline:
      f(value.polyline());
      break;
    case FieldValue::kPolylines:
      for (const auto& l : value.polylines().polylines()) f(l);
      break;
    case FieldValue::kKeypoint:
      f(value.keypoint());
      break;
    case FieldValue::kKeypoints:
      for (const auto& l : value.keypoints().keypoints()) f(l);
      break;
    case FieldValue::kSegmentation:
    case FieldValue::VALUE_NOT_SET:
      break;
  }
}

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_FIELD_LABELS_H_
