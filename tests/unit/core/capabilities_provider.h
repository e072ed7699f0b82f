// A BackendProvider that only states capabilities (what RunRegistry's
// CreateRun asks): BackendFor has no backend to give.
#ifndef LABELPORT_TESTS_UNIT_CORE_CAPABILITIES_PROVIDER_H_
#define LABELPORT_TESTS_UNIT_CORE_CAPABILITIES_PROVIDER_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/backend/backend_capabilities.h"
#include "service/backend/backend_provider.h"

namespace labelport::core::testing {

class CapabilitiesProvider : public backend::BackendProvider {
 public:
  explicit CapabilitiesProvider(backend::BackendCapabilities capabilities)
      : capabilities_(std::move(capabilities)) {}

  absl::StatusOr<std::shared_ptr<backend::AnnotationBackend>> BackendFor(
      const std::string& tenant) override {
    return absl::FailedPreconditionError("CapabilitiesProvider has no backend (tenant '" + tenant +
                                         "')");
  }
  const backend::BackendCapabilities& Capabilities() const override { return capabilities_; }

 private:
  backend::BackendCapabilities capabilities_;
};

}  // namespace labelport::core::testing

#endif  // LABELPORT_TESTS_UNIT_CORE_CAPABILITIES_PROVIDER_H_
