// SHA-256 digests (OpenSSL EVP), for derived ids and keys that must not be
// reversible. The only place outside service/http that touches OpenSSL.
#ifndef LABELPORT_SERVICE_COMMON_SHA256_H_
#define LABELPORT_SERVICE_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace labelport::common {

// The 32-byte SHA-256 digest of `data`.
std::array<uint8_t, 32> Sha256(absl::string_view data);

// The same, as 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view data);

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_SHA256_H_
