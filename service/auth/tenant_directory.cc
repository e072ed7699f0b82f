#include "service/auth/tenant_directory.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "service/common/sha256.h"

namespace labelport::auth {

std::shared_ptr<const TenantDirectory::Index> TenantDirectory::BuildIndex(TenantsConfig config) {
  auto index = std::make_shared<Index>();
  index->config = std::move(config);
  for (const Tenant& t : index->config.tenants) {
    index->tenant_by_name[t.name] = &t;
    for (const std::string& hash : t.token_sha256) index->tenant_by_token_hash[hash] = t.name;
    for (const std::string& identity : t.client_identities)
      index->tenant_by_identity[identity] = t.name;
  }
  return index;
}

absl::StatusOr<std::unique_ptr<TenantDirectory>> TenantDirectory::Load(std::string path,
                                                                       TenantsFileRules rules) {
  auto config = LoadTenantsFile(path, rules);
  if (!config.ok()) return config.status();
  return std::unique_ptr<TenantDirectory>(
      new TenantDirectory(std::move(path), std::move(rules), BuildIndex(*std::move(config))));
}

std::unique_ptr<TenantDirectory> TenantDirectory::FromConfig(TenantsConfig config) {
  return std::unique_ptr<TenantDirectory>(
      new TenantDirectory(std::string(), TenantsFileRules{}, BuildIndex(std::move(config))));
}

std::shared_ptr<const TenantDirectory::Index> TenantDirectory::Current() const {
  absl::MutexLock lock(&mu_);
  return index_;
}

absl::StatusOr<bool> TenantDirectory::Reload() {
  if (path_.empty()) return false;
  auto config = LoadTenantsFile(path_, rules_);
  if (!config.ok()) return config.status();
  // A re-read of the same content (including the API keys read) is no change.
  if (*config == Current()->config) return false;
  auto fresh = BuildIndex(*std::move(config));
  absl::MutexLock lock(&mu_);
  if (fresh->config == index_->config) return false;  // a concurrent Reload swapped it in
  for (const Tenant& t : index_->config.tenants) {
    const std::string& file = t.darwin.api_key_file;
    if (!file.empty() && absl::c_find(earlier_key_files_, file) == earlier_key_files_.end())
      earlier_key_files_.push_back(file);
  }
  index_ = std::move(fresh);
  return true;
}

std::optional<std::string> TenantDirectory::TenantForToken(absl::string_view token) const {
  if (token.empty()) return std::nullopt;
  auto index = Current();
  auto it = index->tenant_by_token_hash.find(common::Sha256Hex(token));
  if (it == index->tenant_by_token_hash.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> TenantDirectory::TenantForIdentity(absl::string_view identity) const {
  if (identity.empty()) return std::nullopt;
  auto index = Current();
  auto it = index->tenant_by_identity.find(identity);
  if (it == index->tenant_by_identity.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<DarwinAccount> TenantDirectory::AccountOf(absl::string_view tenant) const {
  auto index = Current();
  auto it = index->tenant_by_name.find(tenant);
  if (it == index->tenant_by_name.end())
    return absl::NotFoundError(
        absl::StrCat("tenant '", tenant, "' is not in the tenants file (any more)"));
  if (it->second->darwin.api_key.empty())
    return absl::FailedPreconditionError(
        absl::StrCat("tenant '", tenant,
                     "' has no V7 API key in the tenants file (darwin.api_key_file or "
                     "darwin.api_key): its runs can be created but not uploaded"));
  return it->second->darwin;
}

std::vector<std::string> TenantDirectory::TenantNames() const {
  auto index = Current();
  std::vector<std::string> names;
  for (const Tenant& t : index->config.tenants) names.push_back(t.name);
  return names;
}

std::vector<std::string> TenantDirectory::MediaRootsOf(absl::string_view tenant) const {
  auto index = Current();
  auto it = index->tenant_by_name.find(tenant);
  if (it == index->tenant_by_name.end()) return {};
  return it->second->media_roots;
}

std::vector<std::string> TenantDirectory::ApiKeyFiles() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> files = earlier_key_files_;
  for (const Tenant& t : index_->config.tenants) {
    const std::string& file = t.darwin.api_key_file;
    if (!file.empty() && absl::c_find(files, file) == files.end()) files.push_back(file);
  }
  return files;
}

}  // namespace labelport::auth
