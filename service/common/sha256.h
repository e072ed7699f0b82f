// SHA-256 digests, for derived ids, keys that must not be reversible and
// content digests of uploaded media. The only place outside service/http
// that touches OpenSSL.
#ifndef LABELPORT_SERVICE_COMMON_SHA256_H_
#define LABELPORT_SERVICE_COMMON_SHA256_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct evp_md_ctx_st;

namespace labelport::common {

// The 32-byte SHA-256 digest of `data`.
std::array<uint8_t, 32> Sha256(absl::string_view data);

// The same, as 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view data);

// SHA-256 of data given in chunks (a stream too large to hold).
// Not thread-safe; not copyable.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // INTERNAL when OpenSSL fails (then and after, nothing more is hashed).
  absl::Status Update(absl::string_view chunk);
  // The digest of every chunk so far, as 64 lowercase hex digits; ends the
  // hasher (a later Update or Finish is FAILED_PRECONDITION).
  absl::StatusOr<std::string> FinishHex();

 private:
  evp_md_ctx_st* context_;
  bool finished_ = false;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_SHA256_H_
