#include "service/http/egress_policy.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/common/errors.h"
#include "service/http/url.h"

namespace labelport::http {
namespace {

namespace ip = boost::asio::ip;

constexpr absl::string_view kPublic = "public";

bool InV4(uint32_t address, uint32_t network, int prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (address & mask) == network;
}

// The IANA IPv4 special-purpose registry (RFC 6890 and successors), plus
// multicast and the former class E space.
std::string ClassOfV4(const ip::address_v4& address) {
  const uint32_t a = address.to_uint();
  struct Range {
    uint32_t network;
    int prefix;
    const char* name;
  };
  static constexpr Range kRanges[] = {
      {0x00000000, 8, "unspecified"},                    // 0.0.0.0/8 "this network"
      {0x0A000000, 8, "private"},                        // 10.0.0.0/8
      {0x64400000, 10, "shared address space (CGNAT)"},  // 100.64.0.0/10
      {0x7F000000, 8, "loopback"},                       // 127.0.0.0/8
      {0xA9FE0000, 16, "link-local"},                    // 169.254.0.0/16
      {0xAC100000, 12, "private"},                       // 172.16.0.0/12
      {0xC0000000, 24, "IETF protocol assignment"},      // 192.0.0.0/24
      {0xC0000200, 24, "documentation"},                 // 192.0.2.0/24 TEST-NET-1
      {0xC0586300, 24, "6to4"},                          // 192.88.99.0/24 relay anycast
      {0xC0A80000, 16, "private"},                       // 192.168.0.0/16
      {0xC6120000, 15, "benchmarking"},                  // 198.18.0.0/15
      {0xC6336400, 24, "documentation"},                 // 198.51.100.0/24 TEST-NET-2
      {0xCB007100, 24, "documentation"},                 // 203.0.113.0/24 TEST-NET-3
      {0xE0000000, 4, "multicast"},                      // 224.0.0.0/4
      {0xFFFFFFFF, 32, "broadcast"},                     // 255.255.255.255
      {0xF0000000, 4, "reserved"},                       // 240.0.0.0/4
  };
  for (const Range& r : kRanges) {
    if (InV4(a, r.network, r.prefix)) return r.name;
  }
  return std::string(kPublic);
}

using Bytes16 = ip::address_v6::bytes_type;

// Whether the first `prefix` bits of `a` equal those of `network`.
bool InV6(const Bytes16& a, const Bytes16& network, int prefix) {
  for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
    const int bits = std::min(prefix, 8);
    const auto mask = static_cast<uint8_t>(0xFF << (8 - bits));
    if ((a[i] & mask) != (network[i] & mask)) return false;
  }
  return true;
}

Bytes16 V6(absl::string_view text) { return ip::make_address_v6(std::string(text)).to_bytes(); }

ip::address_v4 LowV4(const Bytes16& b) { return ip::address_v4({b[12], b[13], b[14], b[15]}); }

// The IANA IPv6 special-purpose registry; everything outside 2000::/3 (the
// only space IANA allocates as global unicast) is reserved.
std::string ClassOfV6(const ip::address_v6& address) {
  const Bytes16 b = address.to_bytes();
  static const Bytes16 kZero{};
  if (address.is_unspecified()) return "unspecified";
  if (address.is_loopback()) return "loopback";
  static const Bytes16 kMapped = V6("::ffff:0:0");
  if (InV6(b, kMapped, 96)) return "IPv4-mapped IPv6";
  if (InV6(b, kZero, 96)) return "IPv4-compatible IPv6";
  static const Bytes16 kNat64 = V6("64:ff9b::");
  if (InV6(b, kNat64, 96)) {
    // DNS64 synthesises these for public IPv4 hosts in IPv6-only networks:
    // the embedded address decides.
    std::string embedded = ClassOfV4(LowV4(b));
    if (embedded == kPublic) return embedded;
    return absl::StrCat("NAT64 of a ", embedded, " address");
  }
  struct Range {
    Bytes16 network;
    int prefix;
    const char* name;
  };
  static const std::vector<Range> kRanges = {
      {V6("64:ff9b:1::"), 48, "local-use NAT64"},
      {V6("100::"), 64, "discard-only"},
      {V6("2001::"), 32, "Teredo"},
      {V6("2001::"), 23, "IETF protocol assignment"},
      {V6("2001:db8::"), 32, "documentation"},
      {V6("2002::"), 16, "6to4"},
      {V6("3fff::"), 20, "documentation"},
      {V6("fc00::"), 7, "unique local (private)"},
      {V6("fe80::"), 10, "link-local"},
      {V6("fec0::"), 10, "site-local (deprecated)"},
      {V6("ff00::"), 8, "multicast"},
  };
  for (const Range& r : kRanges) {
    if (InV6(b, r.network, r.prefix)) return r.name;
  }
  static const Bytes16 kGlobalUnicast = V6("2000::");
  if (!InV6(b, kGlobalUnicast, 3)) return "reserved";
  return std::string(kPublic);
}

absl::Status BadEntry(absl::string_view entry, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("egress allowlist entry '", entry, "': ", why));
}

// Whether getaddrinfo would read `name` as an IPv4 address (inet_aton: one
// to four parts, each decimal, octal or hex), or its last label is numeric
// (no real top-level domain is).
bool ReadsAsIpv4(absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  absl::string_view last = parts.back();
  auto numeric = [](absl::string_view part) {
    if (part.empty()) return false;
    if (absl::StartsWithIgnoreCase(part, "0x")) {
      part.remove_prefix(2);
      return std::all_of(part.begin(), part.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      });
    }
    return std::all_of(part.begin(), part.end(),
                       [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
  };
  return numeric(last);
}

absl::StatusOr<std::string> ParseAllowedName(absl::string_view entry) {
  if (absl::StrContains(entry, "://")) {
    return BadEntry(entry, "write the host name or CIDR, not a URL");
  }
  if (absl::StrContains(entry, '*')) {
    return BadEntry(entry, "wildcards are not supported; list each host name");
  }
  std::string name = absl::AsciiStrToLower(absl::StripSuffix(entry, "."));
  if (name.empty() || name.size() > 253) return BadEntry(entry, "not a host name");
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    if (label.empty() || label.size() > 63) {
      return BadEntry(entry, "not a host name (empty or over-long label)");
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return BadEntry(entry, "not a host name (only letters, digits, '-', '_' and '.')");
      }
    }
  }
  if (ReadsAsIpv4(name)) {
    return BadEntry(entry,
                    "reads as an IPv4 address in a non-standard notation; write it as a CIDR "
                    "such as 127.0.0.1/32");
  }
  return name;
}

}  // namespace

std::string AddressClass(const ip::address& address) {
  if (address.is_v4()) return ClassOfV4(address.to_v4());
  return ClassOfV6(address.to_v6());
}

bool Cidr::Contains(const ip::address& address) const {
  if (network.is_v4() != address.is_v4()) return false;
  if (address.is_v4()) {
    return InV4(address.to_v4().to_uint(), network.to_v4().to_uint(), prefix_length);
  }
  return InV6(address.to_v6().to_bytes(), network.to_v6().to_bytes(), prefix_length);
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  const size_t slash = text.find('/');
  const absl::string_view host = text.substr(0, slash);
  if (absl::StrContains(host, '%')) return BadEntry(text, "zone ids are not supported");
  boost::system::error_code ec;
  Cidr out;
  out.network = ip::make_address(std::string(host), ec);
  if (ec) return BadEntry(text, "not an IPv4 or IPv6 address");
  const int max_prefix = out.network.is_v4() ? 32 : 128;
  out.prefix_length = max_prefix;
  if (slash != absl::string_view::npos) {
    const absl::string_view length = text.substr(slash + 1);
    int value = -1;
    if (length.empty() || length.size() > 3 ||
        !std::all_of(length.begin(), length.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
        !absl::SimpleAtoi(length, &value) || value > max_prefix) {
      return BadEntry(text, absl::StrCat("the prefix length must be 0 to ", max_prefix));
    }
    out.prefix_length = value;
  }
  // The network address itself must carry no host bits: "10.0.0.1/8" is
  // more likely a typo than a wish to allow all of 10/8.
  if (out.network.is_v4()) {
    const uint32_t a = out.network.to_v4().to_uint();
    const uint32_t mask = out.prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - out.prefix_length);
    if ((a & mask) != a) {
      return BadEntry(
          text, absl::StrCat("host bits set beyond /", out.prefix_length, " (did you mean ",
                             ip::address_v4(a & mask).to_string(), "/", out.prefix_length, "?)"));
    }
  } else {
    Bytes16 b = out.network.to_v6().to_bytes();
    Bytes16 masked = b;
    for (int i = 0; i < 16; ++i) {
      const int bits = std::clamp(out.prefix_length - 8 * i, 0, 8);
      masked[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xFF << (8 - bits));
    }
    if (masked != b) {
      return BadEntry(
          text, absl::StrCat("host bits set beyond /", out.prefix_length, " (did you mean ",
                             ip::address_v6(masked).to_string(), "/", out.prefix_length, "?)"));
    }
  }
  return out;
}

absl::StatusOr<EgressPolicy> EgressPolicy::Create(absl::string_view allowlist) {
  EgressPolicy policy;
  if (absl::StripAsciiWhitespace(allowlist).empty()) return policy;
  for (absl::string_view raw : absl::StrSplit(allowlist, ',')) {
    const absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          "egress allowlist: empty entry (entries are separated by single commas)");
    }
    boost::system::error_code ec;
    ip::make_address(std::string(entry.substr(0, entry.find('/'))), ec);
    if (!ec || absl::StrContains(entry, '/') || absl::StrContains(entry, ':')) {
      if (absl::StrContains(entry, "://")) {
        return BadEntry(entry, "write the host name or CIDR, not a URL");
      }
      if (ec && !absl::StrContains(entry, '/') && absl::StrContains(entry, ':') &&
          std::count(entry.begin(), entry.end(), ':') == 1) {
        return BadEntry(entry, "ports are not part of an entry; write the host name or CIDR");
      }
      auto cidr = ParseCidr(entry);
      if (!cidr.ok()) return cidr.status();
      policy.cidrs_.push_back(*std::move(cidr));
      continue;
    }
    auto name = ParseAllowedName(entry);
    if (!name.ok()) return name.status();
    policy.names_.push_back(*std::move(name));
  }
  return policy;
}

absl::Status EgressPolicy::CheckScheme(const Url& url) const {
  if (url.scheme == "http" || url.scheme == "https") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("URL scheme '", url.scheme, "' is not allowed (http and https only)"));
}

absl::Status EgressPolicy::CheckAddress(absl::string_view host, const ip::address& address) const {
  const std::string name = absl::AsciiStrToLower(absl::StripSuffix(host, "."));
  for (const std::string& allowed : names_) {
    if (name == allowed) return absl::OkStatus();
  }
  // An IPv4-mapped address reaches the IPv4 host it embeds.
  ip::address effective = address;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    effective = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  for (const Cidr& cidr : cidrs_) {
    if (cidr.Contains(address) || cidr.Contains(effective)) return absl::OkStatus();
  }
  const std::string kind = AddressClass(address);
  if (kind == kPublic) return absl::OkStatus();
  const std::string shown = address.to_string();
  const std::string what = host == shown ? absl::StrCat("host ", shown)
                                         : absl::StrCat("host '", host, "' resolves to ", shown);
  return common::WithDetails(
      absl::PermissionDeniedError(
          absl::StrCat(what, " (", kind,
                       " address): refused by the egress policy (an operator can allow on-premise "
                       "stores with --media_url_allow)")),
      "", kEgressDeniedReason);
}

}  // namespace labelport::http
