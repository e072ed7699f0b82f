#include "service/auth/auth_mode.h"

#include "absl/strings/str_cat.h"

namespace labelport::auth {
namespace {

// Each mode with its name (the --auth value).
struct NamedMode {
  AuthMode mode;
  absl::string_view name;
};
constexpr NamedMode kModes[] = {
    {AuthMode::kNone, "none"}, {AuthMode::kToken, "token"}, {AuthMode::kMtls, "mtls"}};

}  // namespace

absl::StatusOr<AuthMode> ParseAuthMode(absl::string_view name) {
  for (const NamedMode& m : kModes) {
    if (m.name == name) return m.mode;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", name, "' is not an authentication mode; use none, token or mtls"));
}

absl::string_view AuthModeName(AuthMode mode) {
  for (const NamedMode& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "none";
}

}  // namespace labelport::auth
