// Decoding of darwin-py's compressed request bodies: with config
// `payload_compression_level` 1-9 the SDK zlib-compresses POST bodies and adds
// `X-Darwin-Payload-Compression-Version: 1` (darwin-api.md §1.3, §10.7).
#ifndef LABELPORT_TESTS_DARWIN_SIM_PAYLOAD_COMPRESSION_H_
#define LABELPORT_TESTS_DARWIN_SIM_PAYLOAD_COMPRESSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::darwin_sim {

// Inflates a zlib stream (RFC 1950). Errors: InvalidArgument when the data is
// not a complete zlib stream, or would inflate beyond `max_bytes`.
absl::StatusOr<std::string> InflateZlib(absl::string_view data, size_t max_bytes = size_t{1} << 31);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_PAYLOAD_COMPRESSION_H_
