#include "service/http/egress_policy.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "service/common/errors.h"
#include "service/http/url.h"

namespace labelport::http {
namespace {

constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;

boost::asio::ip::address Addr(const std::string& text) {
  return boost::asio::ip::make_address(text);
}

std::string ClassOf(const std::string& text) { return AddressClass(Addr(text)); }

EgressPolicy Policy(absl::string_view allowlist = "") {
  auto policy = EgressPolicy::Create(allowlist);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : EgressPolicy();
}

TEST(AddressClassTest, Ipv4SpecialPurposeRanges) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.0.0.0", "unspecified"},
      {"0.255.255.255", "unspecified"},
      {"10.0.0.1", "private"},
      {"10.255.255.255", "private"},
      {"100.64.0.1", "shared address space (CGNAT)"},
      {"100.127.255.254", "shared address space (CGNAT)"},
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"169.254.169.254", "link-local"},  // cloud metadata services
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.0.0.8", "IETF protocol assignment"},
      {"192.0.2.10", "documentation"},
      {"192.88.99.1", "6to4"},
      {"192.168.1.1", "private"},
      {"198.18.0.1", "benchmarking"},
      {"198.19.255.255", "benchmarking"},
      {"198.51.100.7", "documentation"},
      {"203.0.113.9", "documentation"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.254", "reserved"},
      {"255.255.255.255", "broadcast"},
  };
  for (const auto& [address, kind] : cases) EXPECT_EQ(ClassOf(address), kind) << address;
}

TEST(AddressClassTest, Ipv4NeighboursOfSpecialRangesArePublic) {
  for (const char* address : {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255",
                              "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255",
                              "172.15.255.255", "172.32.0.0", "192.0.1.1", "192.167.255.255",
                              "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255"}) {
    EXPECT_EQ(ClassOf(address), "public") << address;
  }
}

TEST(AddressClassTest, Ipv6SpecialPurposeRanges) {
  const std::pair<const char*, const char*> cases[] = {
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"::ffff:127.0.0.1", "IPv4-mapped IPv6"},
      {"::ffff:8.8.8.8", "IPv4-mapped IPv6"},
      {"::127.0.0.1", "IPv4-compatible IPv6"},
      {"::8.8.8.8", "IPv4-compatible IPv6"},
      {"64:ff9b::127.0.0.1", "NAT64 of a loopback address"},
      {"64:ff9b::10.1.2.3", "NAT64 of a private address"},
      {"64:ff9b:1::1", "local-use NAT64"},
      {"100::1", "discard-only"},
      {"2001::1", "Teredo"},
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"},
      {"2001:2::1", "IETF protocol assignment"},   // benchmarking
      {"2001:10::1", "IETF protocol assignment"},  // ORCHID
      {"2001:1ff::1", "IETF protocol assignment"},
      {"2001:db8::1", "documentation"},
      {"3fff::1", "documentation"},
      {"2002:7f00:1::1", "6to4"},  // embeds 127.0.0.1
      {"2002:808:808::1", "6to4"},
      {"fc00::1", "unique local (private)"},
      {"fd12:3456::1", "unique local (private)"},
      {"fe80::1", "link-local"},
      {"febf::1", "link-local"},
      {"fec0::1", "site-local (deprecated)"},
      {"feff::1", "site-local (deprecated)"},
      {"ff02::1", "multicast"},
      {"ff05::2", "multicast"},
      {"::ffff:0:1.2.3.4", "reserved"},  // SIIT IPv4-translated
      {"4000::1", "reserved"},
      {"5f00::1", "reserved"},
      {"1234::1", "reserved"},
  };
  for (const auto& [address, kind] : cases) EXPECT_EQ(ClassOf(address), kind) << address;
}

TEST(AddressClassTest, Ipv6GlobalUnicastAndNat64OfPublicArePublic) {
  for (const char* address : {"2001:4860:4860::8888", "2606:4700:4700::1111", "2001:200::1",
                              "2003::1", "3ffe::1", "64:ff9b::8.8.8.8"}) {
    EXPECT_EQ(ClassOf(address), "public") << address;
  }
}

TEST(EgressPolicyTest, RefusesEverySpecialClassWithPermissionDenied) {
  const EgressPolicy policy = Policy();
  for (const char* address : {"127.0.0.1",
                              "10.1.2.3",
                              "169.254.169.254",
                              "100.64.1.1",
                              "0.0.0.0",
                              "224.0.0.1",
                              "240.0.0.1",
                              "255.255.255.255",
                              "192.0.2.1",
                              "198.18.0.1",
                              "192.0.0.1",
                              "::1",
                              "::",
                              "fe80::1",
                              "fd00::1",
                              "fec0::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1",
                              "::127.0.0.1",
                              "2002:7f00:1::1",
                              "2001::1",
                              "64:ff9b::7f00:1",
                              "64:ff9b:1::1"}) {
    const absl::Status status = policy.CheckAddress(address, Addr(address));
    EXPECT_EQ(status.code(), kDenied) << address;
    EXPECT_EQ(common::ErrorReason(status).value_or(""), kEgressDeniedReason) << address;
  }
}

TEST(EgressPolicyTest, AllowsPublicAddresses) {
  const EgressPolicy policy = Policy();
  EXPECT_TRUE(policy.CheckAddress("example.com", Addr("93.184.216.34")).ok());
  EXPECT_TRUE(policy.CheckAddress("example.com", Addr("2606:2800:220:1::1")).ok());
  EXPECT_TRUE(policy.CheckAddress("64:ff9b::808:808", Addr("64:ff9b::808:808")).ok());
}

TEST(EgressPolicyTest, MessageNamesHostAddressAndClass) {
  const absl::Status status = Policy().CheckAddress("2130706433", Addr("127.0.0.1"));
  EXPECT_EQ(status.code(), kDenied);
  EXPECT_EQ(status.message(),
            "host '2130706433' resolves to 127.0.0.1 (loopback address): refused by the egress "
            "policy (an operator can allow on-premise stores with --media_url_allow)");
  const absl::Status literal = Policy().CheckAddress("::1", Addr("::1"));
  EXPECT_EQ(literal.message().substr(0, 28), "host ::1 (loopback address):");
}

// A host name and the address it resolved to.
struct HostAt {
  const char* host;
  const char* address;
};

// Expects `policy` to allow each of `allowed` and to deny each of `denied`.
void ExpectVerdicts(const EgressPolicy& policy, std::initializer_list<HostAt> allowed,
                    std::initializer_list<HostAt> denied) {
  for (const HostAt& h : allowed) {
    const absl::Status status = policy.CheckAddress(h.host, Addr(h.address));
    EXPECT_TRUE(status.ok()) << h.host << " at " << h.address << ": " << status;
  }
  for (const HostAt& h : denied) {
    EXPECT_EQ(policy.CheckAddress(h.host, Addr(h.address)).code(), kDenied)
        << h.host << " at " << h.address;
  }
}

TEST(EgressPolicyTest, AllowlistByCidr) {
  ExpectVerdicts(Policy(" 10.20.0.0/16 , fd00:1::/32,127.0.0.2"),
                 /*allowed=*/
                 {{"minio.internal", "10.20.3.4"},
                  {"fd00:1::5", "fd00:1::5"},
                  {"127.0.0.2", "127.0.0.2"},
                  // The mapped form of an allowed IPv4 address is the same host.
                  {"::ffff:127.0.0.2", "::ffff:127.0.0.2"},
                  // A public address stays allowed.
                  {"example.com", "93.184.216.34"}},
                 /*denied=*/{{"x", "10.21.0.1"}, {"x", "fd00:2::1"}, {"127.0.0.1", "127.0.0.1"}});
}

TEST(EgressPolicyTest, AllowlistByHostNameIsExactAndCaseInsensitive) {
  ExpectVerdicts(Policy("Minio.Internal.,localhost"),
                 /*allowed=*/
                 {{"minio.internal", "10.0.0.5"},
                  {"MINIO.internal.", "10.0.0.5"},
                  {"localhost", "127.0.0.1"},
                  {"localhost", "::1"}},
                 // The name admits that name only: not its subdomains, nor its
                 // address reached by another name or as a literal.
                 /*denied=*/
                 {{"evil.minio.internal", "10.0.0.5"},
                  {"minio.internal.evil.com", "10.0.0.5"},
                  {"127.0.0.1", "127.0.0.1"}});
}

TEST(EgressPolicyTest, MalformedAllowlistEntriesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.0/33", "'10.0.0.0/33': the prefix length must be 0 to 32"},
      {"fd00::/129", "'fd00::/129': the prefix length must be 0 to 128"},
      {"10.0.0.0/", "'10.0.0.0/': the prefix length must be 0 to 32"},
      {"10.0.0.0/-1", "'10.0.0.0/-1': the prefix length must be 0 to 32"},
      {"10.0.0.1/8", "'10.0.0.1/8': host bits set beyond /8 (did you mean 10.0.0.0/8?)"},
      {"fd00::1/8", "'fd00::1/8': host bits set beyond /8 (did you mean fd00::/8?)"},
      {"10.0.0.256/32", "'10.0.0.256/32': not an IPv4 or IPv6 address"},
      {"fe80::1%eth0", "'fe80::1%eth0': zone ids are not supported"},
      {"*.example.com", "'*.example.com': wildcards are not supported"},
      {"https://minio.internal",
       "'https://minio.internal': write the host name or CIDR, not a URL"},
      {"minio.internal:9000", "'minio.internal:9000': ports are not part of an entry"},
      {"127.1", "'127.1': reads as an IPv4 address in a non-standard notation"},
      {"2130706433", "'2130706433': reads as an IPv4 address"},
      {"0x7f000001", "'0x7f000001': reads as an IPv4 address"},
      {"0177.0.0.1", "'0177.0.0.1': reads as an IPv4 address"},
      {"bad host", "'bad host': not a host name"},
      {"a..b", "'a..b': not a host name"},
      {"10.0.0.0/8,,fd00::/8", "empty entry"},
      {"10.0.0.0/8,", "empty entry"},
  };
  for (const auto& [allowlist, expected] : cases) {
    auto policy = EgressPolicy::Create(allowlist);
    ASSERT_FALSE(policy.ok()) << allowlist;
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument) << allowlist;
    EXPECT_NE(policy.status().message().find(expected), absl::string_view::npos)
        << allowlist << ": " << policy.status().message();
  }
}

TEST(EgressPolicyTest, EmptyAllowlistAllowsNothingExtra) {
  EXPECT_TRUE(Policy("").allows_nothing_extra());
  EXPECT_TRUE(Policy("  ").allows_nothing_extra());
  EXPECT_FALSE(Policy("0.0.0.0/0").allows_nothing_extra());
  // 0.0.0.0/0 is the operator's explicit choice to allow every IPv4 address.
  EXPECT_TRUE(Policy("0.0.0.0/0").CheckAddress("x", Addr("127.0.0.1")).ok());
}

TEST(EgressPolicyTest, SchemeHttpAndHttpsOnly) {
  const EgressPolicy policy = Policy();
  EXPECT_TRUE(policy.CheckScheme(*ParseUrl("http://example.com/a")).ok());
  EXPECT_TRUE(policy.CheckScheme(*ParseUrl("https://example.com/a")).ok());
  Url ftp;
  ftp.scheme = "ftp";
  EXPECT_EQ(policy.CheckScheme(ftp).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CidrTest, ContainsRespectsFamilyAndPrefix) {
  auto v4 = ParseCidr("192.168.0.0/16");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->Contains(Addr("192.168.255.1")));
  EXPECT_FALSE(v4->Contains(Addr("192.169.0.1")));
  EXPECT_FALSE(v4->Contains(Addr("::ffff:192.168.0.1")));
  auto v6 = ParseCidr("2001:db8:abcd::/48");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Addr("2001:db8:abcd:1::1")));
  EXPECT_FALSE(v6->Contains(Addr("2001:db8:abce::1")));
  auto odd = ParseCidr("2001:db8:8000::/33");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains(Addr("2001:db8:ffff::1")));
  EXPECT_FALSE(odd->Contains(Addr("2001:db8:7fff::1")));
  auto all = ParseCidr("::/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(Addr("::1")));
  auto single = ParseCidr("10.1.2.3");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->prefix_length, 32);
}

}  // namespace
}  // namespace labelport::http
