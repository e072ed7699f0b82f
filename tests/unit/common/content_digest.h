// Test support: the content digest a client names media by
// ("sha256:" and 64 lower-case hex digits), of given bytes.
#ifndef LABELPORT_TESTS_UNIT_COMMON_CONTENT_DIGEST_H_
#define LABELPORT_TESTS_UNIT_COMMON_CONTENT_DIGEST_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/sha256.h"

namespace labelport::testing {

inline std::string ContentDigest(absl::string_view bytes) {
  return absl::StrCat("sha256:", common::Sha256Hex(bytes));
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_CONTENT_DIGEST_H_
