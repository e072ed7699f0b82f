// Media roots: the server directories beneath which a tenant's media
// references by `path` may be read (DESIGN.md §8, "Server paths").
//
// This file holds the lexical rules, shared by CreateRun's early check
// (service/core/sample_validator.h) and the upload's open
// (service/common/media_path_opener.h), and the one error every refusal
// gives: a path outside the roots, one with a ".." component, one that
// leaves its root by a symlink and one naming a file of the server all
// answer alike, so that no answer tells whether a file exists outside the
// roots. Paths are quoted shortened to at most kMaxShownPathChars.
#ifndef LABELPORT_SERVICE_COMMON_MEDIA_ROOTS_H_
#define LABELPORT_SERVICE_COMMON_MEDIA_ROOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::common {

// ErrorInfo reason of every refused server path (PERMISSION_DENIED).
inline constexpr absl::string_view kMediaPathNotAllowedReason = "MEDIA_PATH_NOT_ALLOWED";
inline constexpr size_t kMaxShownPathChars = 200;

// `path` as quoted in errors: at most kMaxShownPathChars bytes (cut on a
// UTF-8 character boundary), then "..." when cut.
std::string ShownMediaPath(absl::string_view path);

// The refusal of a server path (PERMISSION_DENIED, reason
// MEDIA_PATH_NOT_ALLOWED), the same whatever the cause.
absl::Status MediaPathNotAllowed(absl::string_view path);
// The refusal when the tenant has no media root at all (PERMISSION_DENIED,
// reason MEDIA_PATH_NOT_ALLOWED); it says how to send media instead.
absl::Status NoMediaRoots(absl::string_view path);

// An operator's media root in normal form: absolute, without "." or ".."
// components, repeated or trailing '/' ("/" stays "/"). INVALID_ARGUMENT
// stating the rule; the caller names the flag or JSON path.
absl::StatusOr<std::string> NormalizeMediaRoot(absl::string_view root);

// Checks that a normalised root is an existing directory (symlinks
// followed) and does not lie inside `data_dir` (skipped when empty), whose
// files are never readable as media. INVALID_ARGUMENT stating the rule.
absl::Status CheckMediaRootDirectory(const std::string& root, const std::string& data_dir);

// Where a media path lies, lexically.
struct MediaRootMatch {
  // The outermost of the roots that contains the path.
  std::string root;
  // The path relative to `root`, "." for the root itself; it ends with '/'
  // when the path did.
  std::string relative;
};

// The outermost root of `roots` (normalised) that lexically contains `path`.
// NoMediaRoots when `roots` is empty; MediaPathNotAllowed when `path` is not
// absolute, has a ".." component or lies beneath none of them. Touches no
// file.
absl::StatusOr<MediaRootMatch> MatchMediaRoot(absl::string_view path,
                                              const std::vector<std::string>& roots);

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_MEDIA_ROOTS_H_
