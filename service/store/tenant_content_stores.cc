#include "service/store/tenant_content_stores.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace labelport::store {

std::string TenantContentStores::MediaDirOf(const std::string& media_root,
                                            const std::string& tenant) {
  if (tenant == "default") return media_root;
  return absl::StrCat(media_root, "/tenants/", tenant);
}

absl::StatusOr<FileContentStore*> TenantContentStores::ForTenant(const std::string& tenant) {
  if (tenant.empty() || tenant == "." || tenant == ".." || absl::StrContains(tenant, "/"))
    return absl::InvalidArgumentError(
        absl::StrCat("tenant name '", tenant, "' cannot name a media directory"));
  absl::MutexLock lock(&mu_);
  std::unique_ptr<FileContentStore>& store = stores_[tenant];
  if (store == nullptr) {
    auto created = FileContentStore::Create(MediaDirOf(media_root_, tenant),
                                            {.max_stored_bytes = max_bytes_per_tenant_});
    if (!created.ok()) {
      stores_.erase(tenant);
      return created.status();
    }
    store = *std::move(created);
  }
  return store.get();
}

}  // namespace labelport::store
