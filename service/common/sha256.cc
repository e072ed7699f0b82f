#include "service/common/sha256.h"

#include <openssl/evp.h>
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

namespace {

std::string LowerHex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  const std::array<uint8_t, 32> digest = Sha256(data);
  return LowerHex(digest.data(), digest.size());
}

Sha256Hasher::Sha256Hasher() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr || EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1)
    finished_ = true;
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(context_); }

absl::Status Sha256Hasher::Update(absl::string_view chunk) {
  if (finished_) return absl::FailedPreconditionError("SHA-256: the hasher is finished or failed");
  if (EVP_DigestUpdate(context_, chunk.data(), chunk.size()) != 1) {
    finished_ = true;
    return absl::InternalError("SHA-256 update failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Sha256Hasher::FinishHex() {
  if (finished_) return absl::FailedPreconditionError("SHA-256: the hasher is finished or failed");
  finished_ = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_, digest, &length) != 1)
    return absl::InternalError("SHA-256 finalisation failed");
  return LowerHex(digest, length);
}

}  // namespace labelport::common
