// TenantsFile: the tenants of an authenticated labelport-server, read from a
// JSON file (in Kubernetes, a Secret mounted as a file):
//
//   {
//     "tenants": [
//       {
//         "name": "acme",                       // required, [a-z0-9][a-z0-9._-]{0,62}
//         "description": "free text",           // optional
//         "token_sha256": ["<64 hex>", ...],    // SHA-256 of each bearer token
//         "client_identities": ["acme-ci"],     // TLS client certificate CN or SAN
//         "media_roots": ["/srv/media/acme"],   // optional: directories whose
//                                               // files its media paths may name
//         "darwin": {                           // optional: the tenant's V7 account
//           "api_key_file": "keys/acme",        // or "api_key": "..." (not both)
//           "url": "https://darwin.v7labs.com"  // optional; default --darwin_url
//         }
//       }
//     ]
//   }
//
// Tokens are never stored, only their SHA-256 (lowercase hex of the UTF-8
// bytes, as `printf %s "$TOKEN" | sha256sum` prints it). A relative
// api_key_file is relative to the tenants file's directory; it is read when
// the file is loaded. media_roots must be absolute paths of existing
// directories (checked at every load), none inside the server's data
// directory; with --media_root they are the tenant's effective roots (see
// service/common/media_roots.h). Unknown keys are errors (a misspelt "token_sha256"
// must not silently lock a tenant out). A token hash or client identity may
// belong to one tenant only.
//
// Errors are INVALID_ARGUMENT naming the file, the JSON path and the rule,
// and never contain a token, a hash or an API key.
#ifndef LABELPORT_SERVICE_AUTH_TENANTS_FILE_H_
#define LABELPORT_SERVICE_AUTH_TENANTS_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::auth {

// A tenant's V7 Darwin account. `api_key` empty: the tenant has none (its runs
// can be created but not uploaded). `url` empty: the server's --darwin_url.
struct DarwinAccount {
  std::string api_key;
  std::string url;
  // The file the key was read from (resolved), empty for an inline key: one
  // of the server's own files, never readable as media.
  std::string api_key_file;

  bool operator==(const DarwinAccount&) const = default;
};

struct Tenant {
  std::string name;
  // 64 lowercase hex digits each.
  std::vector<std::string> token_sha256;
  std::vector<std::string> client_identities;
  // Normalised (common::NormalizeMediaRoot).
  std::vector<std::string> media_roots;
  DarwinAccount darwin;

  bool operator==(const Tenant&) const = default;
};

struct TenantsConfig {
  std::vector<Tenant> tenants;

  bool operator==(const TenantsConfig&) const = default;
};

// What the server checks a tenants file against.
struct TenantsFileRules {
  // The server's data directory: no media root may lie inside it (empty:
  // not checked).
  std::string data_dir;
};

// Parses the JSON text of a tenants file. `source` names it in errors;
// relative api_key_file paths are resolved against `base_dir`.
absl::StatusOr<TenantsConfig> ParseTenantsFile(absl::string_view text, absl::string_view source,
                                               absl::string_view base_dir,
                                               const TenantsFileRules& rules = {});

// Reads and parses the file at `path`.
absl::StatusOr<TenantsConfig> LoadTenantsFile(const std::string& path,
                                              const TenantsFileRules& rules = {});

// Whether `name` is a valid tenant name ([a-z0-9][a-z0-9._-]{0,62}).
bool IsValidTenantName(absl::string_view name);

}  // namespace labelport::auth

#endif  // LABELPORT_SERVICE_AUTH_TENANTS_FILE_H_
