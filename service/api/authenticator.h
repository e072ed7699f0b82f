// Authenticator: finds the tenant of a gRPC call (see auth/auth_mode.h).
//
//   none  - every call is tenant "default";
//   token - metadata "authorization: Bearer <token>", looked up by SHA-256 in
//           the tenant directory;
//   mtls  - the verified client certificate's subject CN, then its SANs, in
//           the tenant directory's client identities.
//
// Failures are UNAUTHENTICATED with a message that says what was missing or
// wrong and never contains the token. Cheap (a hash and a map lookup), so it
// runs on the gRPC thread. Thread-safe.
#ifndef LABELPORT_SERVICE_API_AUTHENTICATOR_H_
#define LABELPORT_SERVICE_API_AUTHENTICATOR_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "service/auth/auth_mode.h"
#include "service/auth/tenant_directory.h"

namespace labelport::api {

class Authenticator {
 public:
  // `tenants` must outlive the authenticator; it may be null with kNone.
  Authenticator(auth::AuthMode mode, const auth::TenantDirectory* tenants)
      : mode_(mode), tenants_(tenants) {}

  absl::StatusOr<std::string> TenantOf(const grpc::ServerContextBase& context) const;

 private:
  absl::StatusOr<std::string> FromToken(const grpc::ServerContextBase& context) const;
  absl::StatusOr<std::string> FromCertificate(const grpc::ServerContextBase& context) const;

  auth::AuthMode mode_;
  const auth::TenantDirectory* tenants_;
};

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_AUTHENTICATOR_H_
