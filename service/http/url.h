// Absolute http/https URLs as HttpClient needs them: where to connect and
// what to put on the request line. Nothing else (no userinfo, no relative
// references but redirect targets, no percent-decoding: the path and query
// are sent as given).
#ifndef LABELPORT_SERVICE_HTTP_URL_H_
#define LABELPORT_SERVICE_HTTP_URL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::http {

struct Url {
  // "http" or "https" (lower case).
  std::string scheme;
  // Host name or IP literal, lower case; IPv6 literals without brackets.
  std::string host;
  // Explicit port, else 80 for http and 443 for https.
  uint16_t port = 0;
  // Path and query ("/" when the URL has no path); never the fragment.
  std::string target;
  // True when `host` is an IPv4 or IPv6 literal.
  bool host_is_ip = false;
  bool ipv6_literal = false;

  bool https() const { return scheme == "https"; }
  bool default_port() const { return port == (https() ? 443 : 80); }
  // `target` without the query string.
  absl::string_view path() const;
  // The Host header value: host, with brackets for IPv6, plus ":port" unless
  // it is the scheme's default.
  std::string HostHeader() const;
  // "scheme://host:port" (brackets for IPv6): the connection pool key.
  std::string Origin() const;
};

// Parses an absolute http:// or https:// URL. INVALID_ARGUMENT (naming the URL
// without its query string) for anything else: another scheme, a missing or
// malformed host, a bad port, userinfo, whitespace or control characters.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

// The absolute URL a redirect's Location header points to, resolved against
// `base` (the URL that answered): an absolute http(s) URL, a
// scheme-relative "//host/path", an absolute path "/p?q", a query "?q" or a
// relative path "p" (dot segments are left to the server). The fragment is
// dropped. INVALID_ARGUMENT (without the query string) for an empty or
// over-long value, whitespace or control characters, or another scheme.
absl::StatusOr<std::string> ResolveLocation(const Url& base, absl::string_view location);

// The URL for messages: "scheme://host:port/path", without userinfo, query
// string or fragment (they may carry signatures or tokens). Works on strings
// that do not parse as well (best effort).
std::string RedactedUrl(absl::string_view url);
std::string RedactedUrl(const Url& url);

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_URL_H_
