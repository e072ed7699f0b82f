#include "service/common/sha256.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"

namespace labelport::common {

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

std::string Sha256Hex(absl::string_view data) {
  std::string out;
  for (uint8_t b : Sha256(data)) absl::StrAppend(&out, absl::Hex(b, absl::kZeroPad2));
  return out;
}

}  // namespace labelport::common
