#include "service/api/authenticator.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <optional>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace labelport::api {
namespace {

constexpr absl::string_view kBearer = "bearer ";

absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}

}  // namespace

absl::StatusOr<std::string> Authenticator::TenantOf(const grpc::ServerContextBase& context) const {
  switch (mode_) {
    case auth::AuthMode::kNone:
      return std::string(auth::kDefaultTenant);
    case auth::AuthMode::kToken:
      return FromToken(context);
    case auth::AuthMode::kMtls:
      return FromCertificate(context);
  }
  return Unauthenticated("unknown authentication mode");
}

absl::StatusOr<std::string> Authenticator::FromToken(const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first == last)
    return Unauthenticated(
        "missing credentials: this server requires a bearer token in the 'authorization' "
        "metadata ('Bearer <token>'; the clients read it from LABELPORT_TOKEN)");
  if (std::next(first) != last)
    return Unauthenticated("the 'authorization' metadata must be sent once");
  const absl::string_view value(first->second.data(), first->second.size());
  if (value.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer))
    return Unauthenticated("the 'authorization' metadata must be 'Bearer <token>'");
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(kBearer.size()));
  std::optional<std::string> tenant = tenants_->TenantForToken(token);
  if (!tenant.has_value())
    return Unauthenticated("the bearer token is not valid (unknown or revoked)");
  return *std::move(tenant);
}

absl::StatusOr<std::string> Authenticator::FromCertificate(
    const grpc::ServerContextBase& context) const {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated())
    return Unauthenticated("missing credentials: this server requires a TLS client certificate");
  // The subject CN first, then every SAN: the first one listed wins, but one
  // certificate naming two tenants is refused rather than guessed.
  std::vector<std::string> identities;
  for (const char* property : {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property))
      identities.emplace_back(value.data(), value.size());
  }
  std::set<std::string> tenants;
  std::optional<std::string> first;
  for (const std::string& identity : identities) {
    std::optional<std::string> tenant = tenants_->TenantForIdentity(identity);
    if (!tenant.has_value()) continue;
    if (!first.has_value()) first = *tenant;
    tenants.insert(*std::move(tenant));
  }
  if (tenants.size() > 1)
    return Unauthenticated(absl::StrCat("the client certificate names several tenants (",
                                        absl::StrJoin(tenants, ", "),
                                        "); give it identities of one tenant only"));
  if (!first.has_value())
    return Unauthenticated(
        absl::StrCat("the client certificate (identities: ", absl::StrJoin(identities, ", "),
                     ") is not mapped to a tenant (client_identities in the tenants file)"));
  return *std::move(first);
}

}  // namespace labelport::api
