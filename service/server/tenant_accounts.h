// TenantAccounts: the V7 account (API key, base URL, media directory, media
// roots) of a tenant, from the tenants file when authentication is on, else
// the server's own key for tenant "default". Errors are FAILED_PRECONDITION and
// never contain a key.
// Thread-safety: Lookup may be called from any thread (TenantDirectory is
// thread-safe; the rest is immutable).
#ifndef LABELPORT_SERVICE_SERVER_TENANT_ACCOUNTS_H_
#define LABELPORT_SERVICE_SERVER_TENANT_ACCOUNTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/auth/tenant_directory.h"
#include "service/backend/darwin/darwin_backend_provider.h"
#include "service/config/server_config.h"

namespace labelport::server {

class TenantAccounts {
 public:
  // `config` and `tenants` (null without authentication) must outlive this.
  TenantAccounts(const config::ServerConfig& config, const auth::TenantDirectory* tenants,
                 std::string media_dir);

  absl::StatusOr<backend::darwin::DarwinTenantAccount> Lookup(const std::string& tenant) const;

  // The tenant's effective media roots (config::EffectiveMediaRoots: its
  // own and --media_root's). Needs no V7 key.
  std::vector<std::string> MediaRootsOf(const std::string& tenant) const;

  // The tenants there are: those of the file, or "default".
  std::vector<std::string> TenantNames() const;

 private:
  const config::ServerConfig& config_;
  const auth::TenantDirectory* tenants_;
  const std::string media_dir_;
};

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_TENANT_ACCOUNTS_H_
