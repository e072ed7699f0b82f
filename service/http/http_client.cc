#include "service/http/http_client.h"

#include "absl/strings/match.h"

namespace labelport::http {

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace labelport::http
