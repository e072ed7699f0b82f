// ProtectedFiles: the server's own files (the data directory with the store
// and every tenant's uploaded media, the SQLite store wherever it is, the V7
// key files, the tenants file, the TLS files), which a media path never
// reads, whichever media root contains them.
//
// A file is recognised by what it is, not by the name it was opened under:
// an open file is protected when its (st_dev, st_ino) is that of a listed
// file as the list stands at the check (so hard links are caught, and a
// rotated Kubernetes Secret is re-read), or when its real path lies beneath
// a protected directory.
//
// Thread-safety: immutable; Contains may be called concurrently (the lister
// must be thread-safe).
#ifndef LABELPORT_SERVICE_COMMON_PROTECTED_FILES_H_
#define LABELPORT_SERVICE_COMMON_PROTECTED_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace labelport::common {

class ProtectedFiles {
 public:
  // Lists files that change at run time (e.g. the key files of the
  // tenants file as last loaded).
  using Lister = std::function<std::vector<std::string>()>;

  // `dirs` are resolved to their real paths now (as far as they exist).
  // Empty names are ignored; files that do not exist protect nothing.
  ProtectedFiles(const std::vector<std::string>& dirs, std::vector<std::string> files,
                 Lister more_files = nullptr);

  // Whether the file open as `fd` (any mode, O_PATH too) is protected.
  // UNAVAILABLE when the descriptor cannot be examined (e.g. no /proc).
  absl::StatusOr<bool> Contains(int fd) const;

  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;
  std::vector<std::string> files_;
  Lister more_files_;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_PROTECTED_FILES_H_
