// Builds zip archives in memory with libzip (deflate-compressed entries, flat
// or nested names as given).
#ifndef LABELPORT_TESTS_DARWIN_SIM_ZIP_WRITER_H_
#define LABELPORT_TESTS_DARWIN_SIM_ZIP_WRITER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace labelport::darwin_sim {

struct ZipEntry {
  std::string name;  // Path inside the archive, '/'-separated.
  std::string content;
};

// Returns the bytes of a zip archive holding `entries` in order.
// Errors: Internal with libzip's message when the archive cannot be built;
// InvalidArgument on duplicate or empty entry names.
absl::StatusOr<std::string> BuildZip(const std::vector<ZipEntry>& entries);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_ZIP_WRITER_H_
