#include "service/common/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace labelport::common {
namespace {

// FIPS 180-2 test vector.
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Sha256Test, HexOfKnownVector) { EXPECT_EQ(Sha256Hex("abc"), kAbc); }

TEST(Sha256HasherTest, ChunksHashLikeTheWhole) {
  Sha256Hasher hasher;
  ASSERT_TRUE(hasher.Update("a").ok());
  ASSERT_TRUE(hasher.Update("").ok());
  ASSERT_TRUE(hasher.Update("bc").ok());
  auto hex = hasher.FinishHex();
  ASSERT_TRUE(hex.ok()) << hex.status();
  EXPECT_EQ(*hex, kAbc);
  const std::string big(100000, 'x');
  Sha256Hasher chunked;
  for (size_t i = 0; i < big.size(); i += 4096)
    ASSERT_TRUE(chunked.Update(absl::string_view(big).substr(i, 4096)).ok());
  EXPECT_EQ(*chunked.FinishHex(), Sha256Hex(big));
}

TEST(Sha256HasherTest, FinishEndsTheHasher) {
  Sha256Hasher hasher;
  ASSERT_TRUE(hasher.FinishHex().ok());
  EXPECT_EQ(hasher.Update("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(hasher.FinishHex().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace labelport::common
