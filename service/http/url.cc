#include "service/http/url.h"

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace labelport::http {
namespace {

// Cuts the query, fragment and userinfo of a string that may not parse.
std::string RedactRaw(absl::string_view url) {
  absl::string_view cut = url.substr(0, url.find_first_of("?#"));
  std::string out;
  const size_t sep = cut.find("://");
  // The userinfo ends at the authority's last '@' (a password may hold one).
  const size_t authority_end =
      sep == absl::string_view::npos ? absl::string_view::npos : cut.find('/', sep + 3);
  const size_t at = sep == absl::string_view::npos ? absl::string_view::npos
                                                   : cut.substr(0, authority_end).rfind('@');
  if (at != absl::string_view::npos && at > sep) {
    out = absl::StrCat(cut.substr(0, sep + 3), cut.substr(at + 1));
  } else {
    out = std::string(cut);
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

absl::Status Invalid(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid URL \"", RedactRaw(url), "\": ", why));
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

absl::string_view Url::path() const {
  absl::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string Url::HostHeader() const {
  std::string h = ipv6_literal ? absl::StrCat("[", host, "]") : host;
  if (!default_port()) absl::StrAppend(&h, ":", port);
  return h;
}

std::string Url::Origin() const {
  return absl::StrCat(scheme, "://", ipv6_literal ? absl::StrCat("[", host, "]") : host, ":", port);
}

absl::StatusOr<Url> ParseUrl(absl::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Invalid(url, "contains whitespace or a control character");
    }
  }
  Url out;
  const size_t sep = url.find("://");
  if (sep == absl::string_view::npos) return Invalid(url, "not an absolute http(s) URL");
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return Invalid(url, "scheme must be http or https");
  }
  absl::string_view rest = url.substr(sep + 3);
  if (const size_t hash = rest.find('#'); hash != absl::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  absl::string_view target =
      path_start == absl::string_view::npos ? absl::string_view() : rest.substr(path_start);
  if (absl::StrContains(authority, "@")) {
    return Invalid(url, "userinfo is not allowed");
  }
  absl::string_view host;
  absl::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Invalid(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid(url, "junk after IPv6 literal");
      port = after.substr(1);
      if (port.empty()) return Invalid(url, "empty port");
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return Invalid(url, "malformed IPv6 literal");
    out.host = address.to_string();
    out.host_is_ip = true;
    out.ipv6_literal = true;
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return Invalid(url, "empty port");
    }
    if (host.empty()) return Invalid(url, "missing host");
    for (char c : host) {
      if (!IsHostChar(c)) return Invalid(url, "malformed host");
    }
    out.host = absl::AsciiStrToLower(host);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v4(out.host, ec);
    out.host_is_ip = !ec;
  }
  if (port.empty()) {
    out.port = out.https() ? 443 : 80;
  } else {
    uint32_t value = 0;
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return Invalid(url, "bad port");
    }
    if (port.size() > 5 || !absl::SimpleAtoi(port, &value) || value == 0 || value > 65535) {
      return Invalid(url, "bad port");
    }
    out.port = static_cast<uint16_t>(value);
  }
  if (target.empty() || target.front() == '?') {
    out.target = absl::StrCat("/", target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

absl::StatusOr<std::string> ResolveLocation(const Url& base, absl::string_view location) {
  constexpr size_t kMaxLocation = 8192;
  if (location.empty()) return Invalid(location, "empty redirect location");
  if (location.size() > kMaxLocation) return Invalid(location, "redirect location too long");
  for (char c : location) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Invalid(location, "contains whitespace or a control character");
    }
  }
  location = location.substr(0, location.find('#'));
  const size_t colon = location.find(':');
  const size_t first_delimiter = location.find_first_of("/?");
  if (colon != absl::string_view::npos &&
      (first_delimiter == absl::string_view::npos || colon < first_delimiter)) {
    // Has a scheme: absolute.
    const std::string scheme = absl::AsciiStrToLower(location.substr(0, colon));
    if (scheme != "http" && scheme != "https") {
      return Invalid(location, "redirect to a scheme other than http or https");
    }
    return std::string(location);
  }
  if (absl::StartsWith(location, "//")) return absl::StrCat(base.scheme, ":", location);
  const std::string origin = base.Origin();
  if (absl::StartsWith(location, "/")) return absl::StrCat(origin, location);
  const absl::string_view path = base.path();
  if (absl::StartsWith(location, "?")) return absl::StrCat(origin, path, location);
  const absl::string_view directory = path.substr(0, path.rfind('/') + 1);
  return absl::StrCat(origin, directory, location);
}

std::string RedactedUrl(const Url& url) { return absl::StrCat(url.Origin(), url.path()); }

std::string RedactedUrl(absl::string_view url) {
  if (auto parsed = ParseUrl(url); parsed.ok()) return RedactedUrl(*parsed);
  return RedactRaw(url);
}

}  // namespace labelport::http
