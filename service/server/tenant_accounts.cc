#include "service/server/tenant_accounts.h"

#include <utility>

#include "absl/status/status.h"
#include "service/store/tenant_content_stores.h"

namespace labelport::server {

TenantAccounts::TenantAccounts(const config::ServerConfig& config,
                               const auth::TenantDirectory* tenants, std::string media_dir)
    : config_(config), tenants_(tenants), media_dir_(std::move(media_dir)) {}

absl::StatusOr<backend::darwin::DarwinTenantAccount> TenantAccounts::Lookup(
    const std::string& tenant) const {
  backend::darwin::DarwinTenantAccount account;
  account.media_dir = store::TenantContentStores::MediaDirOf(media_dir_, tenant);
  account.media_roots = MediaRootsOf(tenant);
  if (tenants_ == nullptr) {
    if (tenant != auth::kDefaultTenant || config_.darwin_api_key.empty())
      return absl::FailedPreconditionError(
          "no V7 API key is configured on the server (set FIFTYONE_DARWIN_API_KEY or "
          "--darwin_api_key_file)");
    account.api_key = config_.darwin_api_key;
    account.base_url = config_.darwin_url;
    return account;
  }
  auto configured = tenants_->AccountOf(tenant);
  if (!configured.ok()) return absl::FailedPreconditionError(configured.status().message());
  account.api_key = configured->api_key;
  account.base_url = configured->url.empty() ? config_.darwin_url : configured->url;
  return account;
}

std::vector<std::string> TenantAccounts::MediaRootsOf(const std::string& tenant) const {
  if (tenants_ == nullptr) {
    if (tenant != auth::kDefaultTenant) return {};
    return config::EffectiveMediaRoots(config_, {});
  }
  return config::EffectiveMediaRoots(config_, tenants_->MediaRootsOf(tenant));
}

std::vector<std::string> TenantAccounts::TenantNames() const {
  if (tenants_ == nullptr) return {std::string(auth::kDefaultTenant)};
  return tenants_->TenantNames();
}

}  // namespace labelport::server
