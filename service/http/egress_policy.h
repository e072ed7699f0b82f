// EgressPolicy: which destinations the server may fetch media URLs from.
//
// A tenant names the URL, so every fetch is a request the server makes on an
// untrusted caller's behalf (SSRF). The policy admits http and https only,
// and refuses every address that is not public unicast: loopback, private,
// link-local, shared (CGNAT), multicast, reserved, unspecified, broadcast,
// documentation, benchmarking, IETF protocol assignments, deprecated
// site-local, and the IPv6 forms that embed an IPv4 address (IPv4-mapped,
// IPv4-compatible, 6to4, Teredo, local-use NAT64; well-known-prefix NAT64
// 64:ff9b::/96 is judged by the IPv4 address it embeds).
//
// The check is on the binary address the connection is made to (after DNS,
// see BeastHttpClient::Options::endpoint_filter), so every spelling of an
// address (decimal "2130706433", octal "0177.0.0.1", hex, "127.1", brackets,
// a name that resolves to it, a name re-bound between two resolutions) meets
// the same rule.
//
// An operator allowlist admits on-premise object stores: an address inside
// an allowed CIDR, or any address of a URL whose host name equals an allowed
// name (case-insensitive, a trailing dot ignored). Allowed names are exact:
// no wildcards, no suffix matching.
//
// Pure: no I/O, no clock. Immutable after Create, so thread-safe.
#ifndef LABELPORT_SERVICE_HTTP_EGRESS_POLICY_H_
#define LABELPORT_SERVICE_HTTP_EGRESS_POLICY_H_

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::http {

struct Url;

// The ErrorInfo reason of a refused destination (PERMISSION_DENIED).
inline constexpr absl::string_view kEgressDeniedReason = "MEDIA_URL_DESTINATION_FORBIDDEN";

// The special-purpose class of an address ("public" when it has none):
// "loopback", "private", "link-local", "shared address space (CGNAT)",
// "multicast", "reserved", "broadcast", "unspecified", "documentation",
// "benchmarking", "IETF protocol assignment", "site-local (deprecated)",
// "IPv4-mapped IPv6", "IPv4-compatible IPv6", "6to4", "Teredo",
// "local-use NAT64", "NAT64 of a <class> address", "discard-only",
// "unique local (private)".
std::string AddressClass(const boost::asio::ip::address& address);

// An IPv4 or IPv6 network in CIDR notation.
struct Cidr {
  boost::asio::ip::address network;
  int prefix_length = 0;

  bool Contains(const boost::asio::ip::address& address) const;
};

// Parses "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128).
// INVALID_ARGUMENT for a malformed address or prefix length, or host bits
// set beyond the prefix ("10.0.0.1/8").
absl::StatusOr<Cidr> ParseCidr(absl::string_view text);

class EgressPolicy {
 public:
  // Parses the allowlist: comma-separated CIDRs, addresses and host names,
  // whitespace around entries ignored; "" allows nothing beyond public
  // addresses. INVALID_ARGUMENT naming the entry for a malformed CIDR, an
  // empty entry, a name with characters other than letters, digits, '-' and
  // '.', a wildcard, a URL, or a name that reads as an IPv4 address in a
  // non-standard notation ("127.1", "0x7f000001": write a CIDR instead).
  static absl::StatusOr<EgressPolicy> Create(absl::string_view allowlist);

  // A policy with an empty allowlist.
  EgressPolicy() = default;

  // The scheme rule (http and https only). INVALID_ARGUMENT otherwise.
  absl::Status CheckScheme(const Url& url) const;

  // Whether a connection to `address` for a URL whose host is `host` (a name
  // or IP literal, as in Url::host) is allowed. PERMISSION_DENIED naming the
  // host, the address and its class, with reason kEgressDeniedReason.
  absl::Status CheckAddress(absl::string_view host, const boost::asio::ip::address& address) const;

  bool allows_nothing_extra() const { return cidrs_.empty() && names_.empty(); }

 private:
  std::vector<Cidr> cidrs_;
  std::vector<std::string> names_;  // lower case, no trailing dot
};

}  // namespace labelport::http

#endif  // LABELPORT_SERVICE_HTTP_EGRESS_POLICY_H_
