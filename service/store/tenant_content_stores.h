// TenantContentStores: one FileContentStore per tenant, so uploaded media are
// private to the tenant that uploaded them (FindMissingMedia cannot tell one
// tenant what another holds, and a run can only use its own tenant's media).
//
// Layout: tenant "default" keeps <media_root> itself (the layout of servers
// without authentication); tenant T uses <media_root>/tenants/T.
// Thread-safety: thread-safe; stores are created on first use and live as
// long as this object.
#ifndef LABELPORT_SERVICE_STORE_TENANT_CONTENT_STORES_H_
#define LABELPORT_SERVICE_STORE_TENANT_CONTENT_STORES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/store/content_store.h"

namespace labelport::store {

class TenantContentStores {
 public:
  // `max_bytes_per_tenant` (<= 0: unlimited) is each tenant's media quota
  // (FileContentStore::Options::max_stored_bytes).
  explicit TenantContentStores(std::string media_root, int64_t max_bytes_per_tenant = 0)
      : media_root_(std::move(media_root)), max_bytes_per_tenant_(max_bytes_per_tenant) {}

  // The media directory of `tenant` (a valid tenant name: no '/', not "." or "..").
  static std::string MediaDirOf(const std::string& media_root, const std::string& tenant);

  // The store of `tenant`, created on first use (errors as
  // FileContentStore::Create; INVALID_ARGUMENT for an unsafe tenant name).
  absl::StatusOr<FileContentStore*> ForTenant(const std::string& tenant);

 private:
  const std::string media_root_;
  const int64_t max_bytes_per_tenant_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<FileContentStore>> stores_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_TENANT_CONTENT_STORES_H_
