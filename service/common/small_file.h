// ReadSmallFile: reads a configuration or secret file (V7 key files, the
// tenants file, PEM files) whole, safely: only a regular file (a FIFO or a
// device such as /dev/zero is refused, never read or waited on), at most
// `max_bytes`. Used wherever the server reads such files, so that a
// misconfigured path can neither hang nor exhaust the server.
//
// Errors (the message names `what` and the path, never the contents):
//   NOT_FOUND          the file does not exist;
//   PERMISSION_DENIED  it cannot be opened for reading;
//   INVALID_ARGUMENT   not a regular file, or larger than `max_bytes`;
//   UNAVAILABLE        a read error.
// Thread-safety: thread-safe.
#ifndef LABELPORT_SERVICE_COMMON_SMALL_FILE_H_
#define LABELPORT_SERVICE_COMMON_SMALL_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::common {

// Secrets (API keys) are tiny; a larger file is a mistake.
inline constexpr int64_t kMaxSecretFileBytes = int64_t{64} * 1024;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, int64_t max_bytes,
                                          absl::string_view what);

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_SMALL_FILE_H_
