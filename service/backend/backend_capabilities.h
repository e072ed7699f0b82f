// BackendCapabilities: what an annotation backend supports, as core needs to
// know it before any work reaches the backend (CreateRun validates a run's
// label schema against it, and its messages name the backend).
#ifndef LABELPORT_SERVICE_BACKEND_BACKEND_CAPABILITIES_H_
#define LABELPORT_SERVICE_BACKEND_BACKEND_CAPABILITIES_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace labelport::backend {

struct BackendCapabilities {
  // The backend's name as CreateRunHeader.backend, AnnotationRun.backend and
  // FiftyOne's messages spell it (e.g. "darwin").
  std::string name;
  // The label-schema types it annotates, in the order messages list them.
  std::vector<std::string> label_types;
  // The attribute types it accepts, in the order messages list them.
  std::vector<std::string> attribute_types;
  // Those of `attribute_types` that need a list of values (select types).
  std::vector<std::string> attribute_types_with_values;

  bool SupportsLabelType(absl::string_view type) const { return Lists(label_types, type); }
  bool SupportsAttributeType(absl::string_view type) const { return Lists(attribute_types, type); }
  bool AttributeTypeRequiresValues(absl::string_view type) const {
    return Lists(attribute_types_with_values, type);
  }

 private:
  static bool Lists(const std::vector<std::string>& values, absl::string_view value) {
    return std::find(values.begin(), values.end(), value) != values.end();
  }
};

}  // namespace labelport::backend

#endif  // LABELPORT_SERVICE_BACKEND_BACKEND_CAPABILITIES_H_
