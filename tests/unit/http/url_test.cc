#include "service/http/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace labelport::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseUrlTest, HttpsWithDefaultPortAndQuery) {
  auto url = ParseUrl("https://darwin.V7labs.com/api/datasets?team=x&token=secret");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "darwin.v7labs.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/api/datasets?team=x&token=secret");
  EXPECT_EQ(url->path(), "/api/datasets");
  EXPECT_FALSE(url->host_is_ip);
  EXPECT_EQ(url->HostHeader(), "darwin.v7labs.com");
  EXPECT_EQ(url->Origin(), "https://darwin.v7labs.com:443");
}

TEST(ParseUrlTest, HttpWithPortAndNoPath) {
  auto url = ParseUrl("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/");
  EXPECT_TRUE(url->host_is_ip);
  EXPECT_EQ(url->HostHeader(), "127.0.0.1:8080");
}

TEST(ParseUrlTest, QueryWithoutPathAndFragmentDropped) {
  auto url = ParseUrl("http://example.com?a=1#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->target, "/?a=1");
  EXPECT_EQ(url->port, 80);
}

TEST(ParseUrlTest, Ipv6Literal) {
  auto url = ParseUrl("https://[::1]:8443/x");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_TRUE(url->ipv6_literal);
  EXPECT_TRUE(url->host_is_ip);
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->HostHeader(), "[::1]:8443");
  EXPECT_EQ(RedactedUrl(*url), "https://[::1]:8443/x");
}

TEST(ParseUrlTest, RejectsOthersWithoutLeakingTheQuery) {
  for (const char* bad : {"ftp://host/x?sig=secret", "/relative?sig=secret", "http://?sig=secret",
                          "http://host:99999/?sig=secret", "http://host:/?sig=secret",
                          "http://user:pw@host/?sig=secret", "http://[::1/?sig=secret",
                          "http://ho st/?sig=secret", "http://[zz]/?sig=secret"}) {
    auto url = ParseUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(url.status().message()), Not(HasSubstr("secret"))) << bad;
  }
  EXPECT_THAT(std::string(ParseUrl("http://user:pw@host/").status().message()),
              Not(HasSubstr("pw")));
}

TEST(RedactedUrlTest, DropsQueryAndUserinfo) {
  EXPECT_EQ(RedactedUrl("https://s3.example.com/bucket/key?X-Amz-Signature=abc"),
            "https://s3.example.com:443/bucket/key");
  EXPECT_EQ(RedactedUrl("ftp://u:p@host/x?y"), "ftp://host/x");
  EXPECT_EQ(RedactedUrl("http://user:p@ss@host:8080/a/b?sig=secret#frag"), "http://host:8080/a/b");
  EXPECT_EQ(RedactedUrl("https://host/a/b#token=secret"), "https://host:443/a/b");
  EXPECT_EQ(RedactedUrl("https://host/a@b/c?sig=secret"), "https://host:443/a@b/c");
  EXPECT_EQ(RedactedUrl("https://user:secret@host"), "https://host");
  EXPECT_EQ(RedactedUrl("http://[::1]:9464/metrics?x=secret"), "http://[::1]:9464/metrics");
  EXPECT_EQ(RedactedUrl("not a url?sig=secret"), "not a url");
  EXPECT_EQ(RedactedUrl("http://host/\x01?sig=secret"), "http://host/?");
}

TEST(ResolveLocationTest, EveryReferenceForm) {
  const Url base = *ParseUrl("https://cdn.example/media/a/pic.png?sig=1");
  const std::pair<const char*, const char*> cases[] = {
      {"http://other.example/x.png?sig=2", "http://other.example/x.png?sig=2"},
      {"HTTPS://Other.example/x", "HTTPS://Other.example/x"},
      {"//mirror.example/y.png", "https://mirror.example/y.png"},
      {"/top.png?v=3", "https://cdn.example:443/top.png?v=3"},
      {"?sig=4", "https://cdn.example:443/media/a/pic.png?sig=4"},
      {"b/next.png", "https://cdn.example:443/media/a/b/next.png"},
      {"../up.png#frag", "https://cdn.example:443/media/a/../up.png"},
  };
  for (const auto& [location, expected] : cases) {
    auto resolved = ResolveLocation(base, location);
    ASSERT_TRUE(resolved.ok()) << location << ": " << resolved.status();
    EXPECT_EQ(*resolved, expected) << location;
  }
  const Url v6 = *ParseUrl("http://[::1]:8080/dir/file");
  EXPECT_EQ(*ResolveLocation(v6, "other"), "http://[::1]:8080/dir/other");
}

TEST(ResolveLocationTest, RefusesOtherSchemesAndJunkWithoutLeakingTheQuery) {
  const Url base = *ParseUrl("http://cdn.example/a");
  for (const char* bad : {"", "file:///etc/passwd?sig=secret", "gopher://x/?sig=secret",
                          "javascript:alert(1)", "http://x/ y?sig=secret"}) {
    auto resolved = ResolveLocation(base, bad);
    ASSERT_FALSE(resolved.ok()) << bad;
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(resolved.status().message()), Not(HasSubstr("secret"))) << bad;
  }
}

}  // namespace
}  // namespace labelport::http
