// What the V7 Darwin backend supports: FiftyOne's darwin backend's label
// and attribute types (spec: annotation-semantics §2.3, §2.6), which
// CreateRun checks a run's schema against.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CAPABILITIES_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CAPABILITIES_H_

#include "service/backend/backend_capabilities.h"

namespace labelport::backend::darwin {

// Name "darwin"; label types and attribute types in FiftyOne's order;
// single_select and multi_select need a list of values.
const BackendCapabilities& DarwinCapabilities();

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CAPABILITIES_H_
