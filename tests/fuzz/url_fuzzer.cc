// Fuzzes URL parsing and redaction (media URLs come from callers, signed
// URLs from V7): parsing never crashes; a parsed URL has a host, a target
// starting with '/', and no fragment; redaction never keeps a query string,
// fragment, whether or not the text parses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "service/http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = labelport::http::ParseUrl(text);
  if (url.ok()) {
    if (url->host.empty() || !absl::StartsWith(url->target, "/") ||
        absl::StrContains(url->target, "#") || (url->scheme != "http" && url->scheme != "https"))
      std::abort();
    const std::string redacted = labelport::http::RedactedUrl(*url);
    if (absl::StrContains(redacted, "?") || absl::StrContains(redacted, "#")) std::abort();
    // The pool key and Host header of a parsed URL parse back to the same origin.
    auto again = labelport::http::ParseUrl(url->Origin() + std::string(url->path()));
    if (!again.ok() || again->Origin() != url->Origin()) std::abort();
  }
  // Redaction cuts at the first '?' or '#' and writes control characters as
  // '?': so unless the part before the query had control characters, no '?'
  // or '#' (nothing of a query string or fragment) may survive.
  const std::string redacted = labelport::http::RedactedUrl(text);
  const absl::string_view before_query = text.substr(0, text.find_first_of("?#"));
  const bool has_controls = std::any_of(before_query.begin(), before_query.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (!has_controls && (absl::StrContains(redacted, "?") || absl::StrContains(redacted, "#")))
    std::abort();
  return 0;
}
