#include "service/core/page_tokens.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

constexpr char kBadToken[] = "page_token is not a token returned by this list call";

std::string Wrap(const std::string& raw) { return absl::WebSafeBase64Escape(raw); }

TEST(PageTokensTest, RunTokenRoundTrips) {
  for (const std::string key : {"a", "gt_run", "données", "k/with/slash"}) {
    SCOPED_TRACE(key);
    auto decoded = DecodeRunPageToken(EncodeRunPageToken(key));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, key);
  }
}

TEST(PageTokensTest, SampleTokenRoundTrips) {
  for (int64_t position :
       {int64_t{0}, int64_t{1}, int64_t{1000}, std::numeric_limits<int64_t>::max()}) {
    SCOPED_TRACE(position);
    auto decoded = DecodeSamplePageToken(EncodeSamplePageToken(position));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, position);
  }
}

TEST(PageTokensTest, TokensAreOpaqueWebSafeStrings) {
  const std::string token = EncodeRunPageToken("gt_run");
  EXPECT_EQ(token.find_first_of("+/= "), std::string::npos) << token;
  EXPECT_EQ(token.find("gt_run"), std::string::npos) << token;
}

TEST(PageTokensTest, NonBase64RunTokenIsRejected) {
  EXPECT_INVALID(DecodeRunPageToken("!!not base64!!"), "page_token", "INVALID_PAGE_TOKEN",
                 kBadToken);
}

TEST(PageTokensTest, EmptyTokenIsRejectedByDecoders) {
  EXPECT_INVALID(DecodeRunPageToken(""), "page_token", "INVALID_PAGE_TOKEN", kBadToken);
  EXPECT_INVALID(DecodeSamplePageToken(""), "page_token", "INVALID_PAGE_TOKEN", kBadToken);
}

TEST(PageTokensTest, SampleTokenIsRejectedAsRunToken) {
  EXPECT_INVALID(DecodeRunPageToken(EncodeSamplePageToken(5)), "page_token", "INVALID_PAGE_TOKEN",
                 kBadToken);
}

TEST(PageTokensTest, RunTokenIsRejectedAsSampleToken) {
  EXPECT_INVALID(DecodeSamplePageToken(EncodeRunPageToken("gt")), "page_token",
                 "INVALID_PAGE_TOKEN", kBadToken);
}

TEST(PageTokensTest, RunTokenWithEmptyKeyIsRejected) {
  EXPECT_INVALID(DecodeRunPageToken(EncodeRunPageToken("")), "page_token", "INVALID_PAGE_TOKEN",
                 kBadToken);
}

TEST(PageTokensTest, RunTokenWithWrongVersionIsRejected) {
  EXPECT_INVALID(DecodeRunPageToken(Wrap("runs.v2:gt")), "page_token", "INVALID_PAGE_TOKEN",
                 kBadToken);
}

TEST(PageTokensTest, MalformedSamplePositionsAreRejected) {
  for (const std::string raw : {"samples.v1:", "samples.v1:-1", "samples.v1:abc", "samples.v1:12x",
                                "samples.v1:99999999999999999999", "samples.v2:3"}) {
    SCOPED_TRACE(raw);
    EXPECT_INVALID(DecodeSamplePageToken(Wrap(raw)), "page_token", "INVALID_PAGE_TOKEN", kBadToken);
  }
}

TEST(PageTokensTest, NonBase64SampleTokenIsRejected) {
  EXPECT_INVALID(DecodeSamplePageToken("***"), "page_token", "INVALID_PAGE_TOKEN", kBadToken);
}

}  // namespace
}  // namespace labelport::core
