// Fuzzes the tenants file parser (an operator's file, but mounted from a
// Secret that other tooling writes): never crashes; a parsed config has valid,
// unique tenant names and 64-hex token hashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "service/auth/tenants_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = labelport::auth::ParseTenantsFile(text, "fuzz-tenants.json", "/nonexistent");
  if (!config.ok()) return 0;
  std::set<std::string> names;
  for (const auto& tenant : config->tenants) {
    if (!labelport::auth::IsValidTenantName(tenant.name)) std::abort();
    if (!names.insert(tenant.name).second) std::abort();
    for (const std::string& hash : tenant.token_sha256) {
      if (hash.size() != 64) std::abort();
    }
  }
  return 0;
}
