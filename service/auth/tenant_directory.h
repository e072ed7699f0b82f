// TenantDirectory: the current tenants of the server and the lookups that
// authenticate a caller: bearer token → tenant, TLS client identity → tenant,
// tenant → V7 account.
//
// Built from a tenants file (tenants_file.h). Reload() re-reads the file and
// swaps the tenants in atomically; a file that fails to load leaves the
// current tenants in place (so a half-written Secret never locks everyone
// out) and the error is returned. Revoking a token = removing its hash from
// the file and reloading (SIGHUP or the periodic check of labelport-server).
//
// Thread-safety: every method may be called concurrently.
#ifndef LABELPORT_SERVICE_AUTH_TENANT_DIRECTORY_H_
#define LABELPORT_SERVICE_AUTH_TENANT_DIRECTORY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/auth/tenants_file.h"

namespace labelport::auth {

class TenantDirectory {
 public:
  // Loads the tenants file at `path` (errors as LoadTenantsFile), now and
  // at every Reload, checked against `rules`.
  static absl::StatusOr<std::unique_ptr<TenantDirectory>> Load(std::string path,
                                                               TenantsFileRules rules = {});
  // A directory over fixed tenants (Reload is then a no-op).
  static std::unique_ptr<TenantDirectory> FromConfig(TenantsConfig config);

  // Re-reads the file. Returns whether the tenants changed; on an error the
  // current tenants stay. Errors never contain a secret.
  absl::StatusOr<bool> Reload();

  // The tenant whose token_sha256 lists SHA-256(token), if any.
  std::optional<std::string> TenantForToken(absl::string_view token) const;
  // The tenant listing `identity` in client_identities, if any.
  std::optional<std::string> TenantForIdentity(absl::string_view identity) const;
  // The V7 account of `tenant`. NOT_FOUND when the tenant is not in the file
  // (any more); FAILED_PRECONDITION when it has no API key.
  absl::StatusOr<DarwinAccount> AccountOf(absl::string_view tenant) const;
  // Tenant names, in file order.
  std::vector<std::string> TenantNames() const;
  // The tenant's own media roots (its "media_roots"; empty when it has none
  // or is not in the file).
  std::vector<std::string> MediaRootsOf(absl::string_view tenant) const;
  // The V7 key files of every tenant, and of tenants a reload removed (the
  // server's own files, which stay secret).
  std::vector<std::string> ApiKeyFiles() const;

 private:
  struct Index {
    TenantsConfig config;
    absl::flat_hash_map<std::string, std::string> tenant_by_token_hash;
    absl::flat_hash_map<std::string, std::string> tenant_by_identity;
    absl::flat_hash_map<std::string, const Tenant*> tenant_by_name;
  };
  static std::shared_ptr<const Index> BuildIndex(TenantsConfig config);

  TenantDirectory(std::string path, TenantsFileRules rules, std::shared_ptr<const Index> index)
      : path_(std::move(path)), rules_(std::move(rules)), index_(std::move(index)) {}
  std::shared_ptr<const Index> Current() const;

  const std::string path_;  // empty for FromConfig
  const TenantsFileRules rules_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Index> index_ ABSL_GUARDED_BY(mu_);
  // Key files named by earlier versions of the file.
  std::vector<std::string> earlier_key_files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::auth

#endif  // LABELPORT_SERVICE_AUTH_TENANT_DIRECTORY_H_
