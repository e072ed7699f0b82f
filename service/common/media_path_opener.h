// OpenMediaPath: opens the file a media reference names by server path, for
// reading, strictly beneath the media roots allowed for the tenant.
//
// The path is matched lexically to the outermost root containing it
// (media_roots.h), then resolved relative to that root's directory by
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): no "..", absolute
// symlink or relative symlink may leave the root (symlinks that stay inside
// it are followed), and /proc magic links are refused. The file must be a
// regular file and not one of the server's own (protected_files.h); it is
// examined by descriptor before it is opened for reading, so a FIFO or
// device is never opened. Callers read the returned descriptor (never the
// path again), so a file swapped afterwards cannot be substituted.
#ifndef LABELPORT_SERVICE_COMMON_MEDIA_PATH_OPENER_H_
#define LABELPORT_SERVICE_COMMON_MEDIA_PATH_OPENER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/common/protected_files.h"
#include "service/common/unique_fd.h"

namespace labelport::common {

// Which server paths one tenant's media references may name.
struct MediaPathPolicy {
  // Normalised roots (NormalizeMediaRoot); empty: no path is readable.
  std::vector<std::string> roots;
  // The server's own files; null: none.
  std::shared_ptr<const ProtectedFiles> protected_files;
};

struct OpenedMediaFile {
  UniqueFd fd;  // open O_RDONLY
  int64_t size_bytes = 0;
};

// Errors, each quoting the path (ShownMediaPath):
//   PERMISSION_DENIED, reason MEDIA_PATH_NOT_ALLOWED (MediaPathNotAllowed,
//     NoMediaRoots): outside every root, a ".." component, leaving the root
//     by a symlink, a magic link or symlink loop, a protected file; all alike;
//   NOT_FOUND "does not exist": nothing at the path beneath its root;
//   INVALID_ARGUMENT "is not a regular file" (beneath its root);
//   PERMISSION_DENIED "is not readable by the server" (the file system's
//     permissions, beneath its root);
//   UNAVAILABLE: anything else (e.g. a kernel without openat2).
absl::StatusOr<OpenedMediaFile> OpenMediaPath(absl::string_view path,
                                              const MediaPathPolicy& policy);

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_MEDIA_PATH_OPENER_H_
