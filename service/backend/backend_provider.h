// BackendProvider: the port through which core finds the AnnotationBackend
// that acts for a tenant, i.e. with that tenant's own platform credentials.
// Every use of a run (upload, load, status, cleanup) asks for the backend of
// the run's tenant, so one tenant's key is never used for another's runs.
#ifndef LABELPORT_SERVICE_BACKEND_BACKEND_PROVIDER_H_
#define LABELPORT_SERVICE_BACKEND_BACKEND_PROVIDER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/backend_capabilities.h"

namespace labelport::backend {

class BackendProvider {
 public:
  virtual ~BackendProvider() = default;

  // The backend for `tenant`. It stays valid while the returned pointer is
  // held, even if the tenant's credentials change meanwhile (later calls
  // then return a new backend). FAILED_PRECONDITION naming the tenant when
  // it has no credentials configured, with a message that says how to add
  // them (never the credentials themselves). Thread-safe.
  virtual absl::StatusOr<std::shared_ptr<AnnotationBackend>> BackendFor(
      const std::string& tenant) = 0;

  // What every backend it provides supports (each one's Capabilities()):
  // the same for every tenant and known without credentials, so that
  // CreateRun checks a run's schema before any key is configured.
  // Thread-safe.
  virtual const BackendCapabilities& Capabilities() const = 0;
};

}  // namespace labelport::backend

#endif  // LABELPORT_SERVICE_BACKEND_BACKEND_PROVIDER_H_
