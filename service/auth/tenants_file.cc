#include "service/auth/tenants_file.h"

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/common/media_roots.h"
#include "service/common/small_file.h"

namespace labelport::auth {
namespace {

// Thousands of tenants fit in far less.
constexpr int64_t kMaxTenantsFileBytes = 16 << 20;

namespace json = boost::json;

class Parser {
 public:
  Parser(absl::string_view source, absl::string_view base_dir, TenantsFileRules rules)
      : source_(source), base_dir_(base_dir), rules_(std::move(rules)) {}

  absl::StatusOr<TenantsConfig> Parse(absl::string_view text) {
    boost::system::error_code ec;
    json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
    // The parser's message can quote the text around the error; only its
    // position-free description is used, so no secret is echoed.
    if (ec) return Error("", absl::StrCat("is not valid JSON (", ec.message(), ")"));
    if (!root.is_object()) return Error("", "must be a JSON object with a \"tenants\" array");
    const json::object& top = root.as_object();
    if (absl::Status s = OnlyKeys(top, "", {"tenants"}); !s.ok()) return s;
    const json::value* tenants = top.if_contains("tenants");
    if (tenants == nullptr || !tenants->is_array() || tenants->as_array().empty())
      return Error("tenants", "must be a non-empty array of tenants");
    TenantsConfig config;
    std::map<std::string, std::string> token_owner;
    std::map<std::string, std::string> identity_owner;
    std::set<std::string> names;
    const json::array& list = tenants->as_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = absl::StrCat("tenants[", i, "]");
      auto tenant = ParseTenant(list[i], path);
      if (!tenant.ok()) return tenant.status();
      if (!names.insert(tenant->name).second)
        return Error(absl::StrCat(path, ".name"),
                     absl::StrCat("repeats tenant '", tenant->name, "'; names must be unique"));
      if (absl::Status s = ClaimEach(tenant->token_sha256, tenant->name, token_owner,
                                     absl::StrCat(path, ".token_sha256"), "a token");
          !s.ok())
        return s;
      if (absl::Status s = ClaimEach(tenant->client_identities, tenant->name, identity_owner,
                                     absl::StrCat(path, ".client_identities"), "a client identity");
          !s.ok())
        return s;
      config.tenants.push_back(*std::move(tenant));
    }
    return config;
  }

 private:
  absl::Status Error(absl::string_view path, absl::string_view rule) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "tenants file '", source_, "': ", path.empty() ? "the file" : path, " ", rule));
  }

  // Records `tenant` as the owner of each of `values` (the list at `path`)
  // in `owner`; an error naming the value's path and its owner when another
  // tenant already lists it (`what`, e.g. "a token", belongs to one only).
  absl::Status ClaimEach(const std::vector<std::string>& values, const std::string& tenant,
                         std::map<std::string, std::string>& owner, absl::string_view path,
                         absl::string_view what) const {
    for (size_t i = 0; i < values.size(); ++i) {
      auto [it, fresh] = owner.emplace(values[i], tenant);
      if (!fresh)
        return Error(absl::StrCat(path, "[", i, "]"),
                     absl::StrCat("is already listed for tenant '", it->second, "'; ", what,
                                  " belongs to one tenant only"));
    }
    return absl::OkStatus();
  }

  absl::Status OnlyKeys(const json::object& object, absl::string_view path,
                        std::initializer_list<absl::string_view> allowed) const {
    for (const auto& entry : object) {
      const absl::string_view key(entry.key().data(), entry.key().size());
      bool known = false;
      for (absl::string_view a : allowed) known = known || a == key;
      if (!known)
        return Error(path.empty() ? std::string(key) : absl::StrCat(path, ".", key),
                     absl::StrCat("is not a known key; allowed: ", absl::StrJoin(allowed, ", ")));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> StringArray(const json::object& object,
                                                       absl::string_view key,
                                                       absl::string_view path) const {
    std::vector<std::string> out;
    const json::value* value = object.if_contains(json::string_view(key.data(), key.size()));
    if (value == nullptr) return out;
    const std::string field = absl::StrCat(path, ".", key);
    if (!value->is_array()) return Error(field, "must be an array of strings");
    const json::array& items = value->as_array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string() || items[i].as_string().empty())
        return Error(absl::StrCat(field, "[", i, "]"), "must be a non-empty string");
      out.emplace_back(items[i].as_string().data(), items[i].as_string().size());
    }
    return out;
  }

  absl::StatusOr<std::string> OptionalString(const json::object& object, absl::string_view key,
                                             absl::string_view path) const {
    const json::value* value = object.if_contains(json::string_view(key.data(), key.size()));
    if (value == nullptr) return std::string();
    if (!value->is_string() || value->as_string().empty())
      return Error(absl::StrCat(path, ".", key), "must be a non-empty string");
    return std::string(value->as_string().data(), value->as_string().size());
  }

  absl::StatusOr<Tenant> ParseTenant(const json::value& value, const std::string& path) const {
    if (!value.is_object()) return Error(path, "must be an object");
    const json::object& object = value.as_object();
    if (absl::Status s = OnlyKeys(
            object, path,
            {"name", "description", "token_sha256", "client_identities", "media_roots", "darwin"});
        !s.ok())
      return s;
    Tenant tenant;
    auto name = OptionalString(object, "name", path);
    if (!name.ok()) return name.status();
    if (name->empty()) return Error(absl::StrCat(path, ".name"), "is required");
    if (!IsValidTenantName(*name))
      return Error(absl::StrCat(path, ".name"),
                   absl::StrCat("'", *name,
                                "' is not a valid tenant name: 1 to 63 characters of a-z, 0-9, "
                                "'.', '_' and '-', starting with a letter or digit"));
    tenant.name = *std::move(name);
    if (const json::value* d = object.if_contains("description"); d != nullptr && !d->is_string())
      return Error(absl::StrCat(path, ".description"), "must be a string");
    auto hashes = StringArray(object, "token_sha256", path);
    if (!hashes.ok()) return hashes.status();
    for (size_t i = 0; i < hashes->size(); ++i) {
      std::string hash = absl::AsciiStrToLower((*hashes)[i]);
      bool hex = hash.size() == 64;
      for (char c : hash) hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(c));
      if (!hex)
        return Error(absl::StrCat(path, ".token_sha256[", i, "]"),
                     "must be the SHA-256 of a token as 64 hex digits (printf %s \"$TOKEN\" | "
                     "sha256sum), not the token itself");
      tenant.token_sha256.push_back(std::move(hash));
    }
    auto identities = StringArray(object, "client_identities", path);
    if (!identities.ok()) return identities.status();
    tenant.client_identities = *std::move(identities);
    auto roots = StringArray(object, "media_roots", path);
    if (!roots.ok()) return roots.status();
    for (size_t i = 0; i < roots->size(); ++i) {
      const std::string field = absl::StrCat(path, ".media_roots[", i, "]");
      auto root = common::NormalizeMediaRoot((*roots)[i]);
      if (!root.ok()) return Error(field, root.status().message());
      if (absl::Status s = common::CheckMediaRootDirectory(*root, rules_.data_dir); !s.ok())
        return Error(field, s.message());
      tenant.media_roots.push_back(*std::move(root));
    }
    if (const json::value* darwin = object.if_contains("darwin"); darwin != nullptr) {
      auto account = ParseDarwin(*darwin, absl::StrCat(path, ".darwin"));
      if (!account.ok()) return account.status();
      tenant.darwin = *std::move(account);
    }
    return tenant;
  }

  absl::StatusOr<DarwinAccount> ParseDarwin(const json::value& value,
                                            const std::string& path) const {
    if (!value.is_object()) return Error(path, "must be an object");
    const json::object& object = value.as_object();
    if (absl::Status s = OnlyKeys(object, path, {"api_key", "api_key_file", "url"}); !s.ok())
      return s;
    DarwinAccount account;
    auto key = OptionalString(object, "api_key", path);
    if (!key.ok()) return key.status();
    auto key_file = OptionalString(object, "api_key_file", path);
    if (!key_file.ok()) return key_file.status();
    auto url = OptionalString(object, "url", path);
    if (!url.ok()) return url.status();
    if (!key->empty() && !key_file->empty())
      return Error(path, "may hold api_key or api_key_file, not both");
    if (!url->empty() && !absl::StartsWith(*url, "http://") && !absl::StartsWith(*url, "https://"))
      return Error(absl::StrCat(path, ".url"), "must start with http:// or https://");
    account.url = *std::move(url);
    account.api_key = std::string(absl::StripAsciiWhitespace(*key));
    if (!key_file->empty()) {
      std::filesystem::path file(*key_file);
      if (file.is_relative() && !base_dir_.empty())
        file = std::filesystem::path(std::string(base_dir_)) / file;
      absl::StatusOr<std::string> contents =
          common::ReadSmallFile(file.string(), common::kMaxSecretFileBytes, "the key file");
      if (!contents.ok())
        return Error(absl::StrCat(path, ".api_key_file"),
                     absl::StrCat("cannot be used: ", contents.status().message()));
      account.api_key = std::string(absl::StripAsciiWhitespace(*contents));
      account.api_key_file = std::filesystem::absolute(file).lexically_normal().string();
      if (account.api_key.empty())
        return Error(absl::StrCat(path, ".api_key_file"),
                     absl::StrCat("names '", file.string(), "', which is empty"));
    }
    return account;
  }

  std::string source_;
  std::string base_dir_;
  TenantsFileRules rules_;
};

}  // namespace

bool IsValidTenantName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

absl::StatusOr<TenantsConfig> ParseTenantsFile(absl::string_view text, absl::string_view source,
                                               absl::string_view base_dir,
                                               const TenantsFileRules& rules) {
  return Parser(source, base_dir, rules).Parse(text);
}

absl::StatusOr<TenantsConfig> LoadTenantsFile(const std::string& path,
                                              const TenantsFileRules& rules) {
  absl::StatusOr<std::string> text =
      common::ReadSmallFile(path, kMaxTenantsFileBytes, "the tenants file");
  if (!text.ok()) return absl::InvalidArgumentError(text.status().message());
  return ParseTenantsFile(*text, path, std::filesystem::path(path).parent_path().string(), rules);
}

}  // namespace labelport::auth
