// AuthMode: how labelport-server identifies the tenant of a call.
//
//   kNone  - no authentication: every caller is tenant "default" (development,
//            loopback only unless forced);
//   kToken - a bearer token ("authorization: Bearer <token>") whose SHA-256
//            is listed for a tenant in the tenants file;
//   kMtls  - a verified TLS client certificate whose subject CN or a SAN is
//            listed for a tenant in the tenants file.
#ifndef LABELPORT_SERVICE_AUTH_AUTH_MODE_H_
#define LABELPORT_SERVICE_AUTH_AUTH_MODE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::auth {

enum class AuthMode { kNone, kToken, kMtls };

// The tenant of every call when authentication is off.
inline constexpr absl::string_view kDefaultTenant = "default";

// Parses "none", "token" or "mtls"; INVALID_ARGUMENT otherwise.
absl::StatusOr<AuthMode> ParseAuthMode(absl::string_view name);
absl::string_view AuthModeName(AuthMode mode);

}  // namespace labelport::auth

#endif  // LABELPORT_SERVICE_AUTH_AUTH_MODE_H_
