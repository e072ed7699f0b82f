// Reads pixel sizes from image file headers (PNG, JPEG, BMP, GIF, WebP, TIFF).
//
// darwin-sim's "processing" step needs the real width and height of uploaded
// media, because clients divide annotation coordinates by them. Only headers
// are parsed; pixel data is never decoded.
#ifndef LABELPORT_TESTS_DARWIN_SIM_MEDIA_PROBE_H_
#define LABELPORT_TESTS_DARWIN_SIM_MEDIA_PROBE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace labelport::darwin_sim {

struct ImageInfo {
  std::string format;  // "png", "jpeg", "bmp", "gif", "webp" or "tiff".
  int width = 0;
  int height = 0;
};

// Returns the format and size of the image in `bytes`.
// Errors: InvalidArgument when the bytes are not a recognised image or the
// header is truncated or inconsistent (zero or negative dimensions).
absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_MEDIA_PROBE_H_
