#include "service/auth/auth_mode.h"

#include "absl/strings/str_cat.h"

namespace labelport::auth {

absl::StatusOr<AuthMode> ParseAuthMode(absl::string_view name) {
  if (name == "none") return AuthMode::kNone;
  if (name == "token") return AuthMode::kToken;
  if (name == "mtls") return AuthMode::kMtls;
  return absl::InvalidArgumentError(
      absl::StrCat("'", name, "' is not an authentication mode; use none, token or mtls"));
}

absl::string_view AuthModeName(AuthMode mode) {
  switch (mode) {
    case AuthMode::kNone:
      return "none";
    case AuthMode::kToken:
      return "token";
    case AuthMode::kMtls:
      return "mtls";
  }
  return "none";
}

}  // namespace labelport::auth
