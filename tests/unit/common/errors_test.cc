#include "service/common/errors.h"

#include <string>

#include "gtest/gtest.h"

namespace labelport::common {
namespace {

TEST(ExcerptTest, ShortValuesAreShownWhole) {
  EXPECT_EQ(Excerpt(""), "");
  EXPECT_EQ(Excerpt(std::string(kExcerptBytes, 'a')), std::string(kExcerptBytes, 'a'));
}

TEST(ExcerptTest, LongValuesShowTheirPrefixAndSize) {
  EXPECT_EQ(Excerpt(std::string(1 << 20, 'x')),
            std::string(kExcerptBytes, 'x') + "\u2026(1048576 bytes)");
}

TEST(ExcerptTest, NoUtf8CharacterIsCut) {
  // 63 ASCII bytes, then "é" (2 bytes) straddling the 64-byte cut.
  const std::string value = std::string(63, 'a') + "\xC3\xA9" + std::string(10, 'b');
  EXPECT_EQ(Excerpt(value), std::string(63, 'a') + "\u2026(75 bytes)");
}

TEST(TruncatedTest, CutsAtTheGivenSize) {
  EXPECT_EQ(Truncated("abcdef", 6), "abcdef");
  EXPECT_EQ(Truncated("abcdef", 3), "abc\u2026(6 bytes)");
}

TEST(PrefixedTest, KeepsTheCodeAndPayloads) {
  const absl::Status prefixed =
      Prefixed("--tenants_file: ", InvalidArgument("tenants", "BAD_TENANT", "no name"));
  EXPECT_EQ(prefixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(prefixed.message(), "--tenants_file: no name");
  EXPECT_EQ(ErrorField(prefixed), "tenants");
  EXPECT_EQ(ErrorReason(prefixed), "BAD_TENANT");
}

}  // namespace
}  // namespace labelport::common
