#include "service/common/sha256.h"

#include <openssl/sha.h>

#include <cstddef>

namespace labelport::common {

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  // The one-shot SHA256() skips EVP's per-call algorithm fetch, which
  // costs more than hashing the short strings labelport digests.
  std::array<uint8_t, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

std::string Sha256Hex(absl::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const std::array<uint8_t, 32> digest = Sha256(data);
  std::string out(2 * digest.size(), '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return out;
}

}  // namespace labelport::common
