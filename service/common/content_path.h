// ContentPath: where the content store keeps the bytes of a digest, the one
// layout shared by the store that writes them (store::FileContentStore) and
// the upload pipeline that reads them (backend::darwin::OpenMedia).
#ifndef LABELPORT_SERVICE_COMMON_CONTENT_PATH_H_
#define LABELPORT_SERVICE_COMMON_CONTENT_PATH_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace labelport::common {

// `<media_dir>/sha256/<first two hex digits>/<hex>` for a digest
// "sha256:<hex>" (validated by the caller: FileContentStore::ValidateDigest).
inline std::string ContentPath(absl::string_view media_dir, absl::string_view digest) {
  absl::string_view hex = digest;
  absl::ConsumePrefix(&hex, "sha256:");
  return absl::StrCat(media_dir, "/sha256/", hex.substr(0, 2), "/", hex);
}

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_CONTENT_PATH_H_
