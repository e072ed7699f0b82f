#include "service/common/media_path_opener.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "service/common/media_roots.h"

namespace labelport::common {
namespace {

// openat2 answers EAGAIN when a concurrent rename might have let ".." escape;
// the lookup is retried this often before the path is refused.
constexpr int kBeneathAttempts = 4;

// glibc 2.36 has no openat2 wrapper.
int OpenBeneath(int root_fd, const std::string& relative, uint64_t flags) {
  struct open_how how {};
  how.flags = flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 1;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN || attempt >= kBeneathAttempts) return static_cast<int>(fd);
  }
}

absl::Status OpenError(int error, absl::string_view path) {
  const std::string shown = ShownMediaPath(path);
  switch (error) {
    case EXDEV:   // ".." or a symlink would leave the root
    case ELOOP:   // a magic link, or a symlink loop
    case EAGAIN:  // an escape could not be ruled out
      return MediaPathNotAllowed(path);
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(absl::StrCat("media file '", shown, "' does not exist"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(
          absl::StrCat("media file '", shown, "' is not readable by the server"));
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(absl::StrCat("media path '", shown, "' is too long"));
    case ENOSYS:
      return absl::UnavailableError(
          "media paths need openat2 (Linux 5.6 or later), which this kernel does not offer");
    default:
      return absl::UnavailableError(
          absl::StrCat("cannot open media file '", shown, "': ", std::strerror(error)));
  }
}

}  // namespace

absl::StatusOr<OpenedMediaFile> OpenMediaPath(absl::string_view path,
                                              const MediaPathPolicy& policy) {
  auto match = MatchMediaRoot(path, policy.roots);
  if (!match.ok()) return match.status();
  UniqueFd root(::open(match->root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return OpenError(errno == ENOTDIR ? ENOENT : errno, path);

  // First a descriptor that opens nothing (O_PATH), to examine the file.
  UniqueFd located(OpenBeneath(root.get(), match->relative, O_PATH | O_CLOEXEC));
  if (!located.valid()) return OpenError(errno, path);
  if (policy.protected_files != nullptr) {
    auto is_protected = policy.protected_files->Contains(located.get());
    if (!is_protected.ok()) return is_protected.status();
    if (*is_protected) return MediaPathNotAllowed(path);
  }
  struct stat st {};
  if (::fstat(located.get(), &st) != 0) return OpenError(errno, path);
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat("media file '", ShownMediaPath(path), "' is not a regular file"));

  // Then the same file for reading; anything else (swapped meanwhile) is
  // refused rather than examined again.
  UniqueFd file(
      OpenBeneath(root.get(), match->relative, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!file.valid()) return OpenError(errno, path);
  struct stat opened {};
  if (::fstat(file.get(), &opened) != 0) return OpenError(errno, path);
  if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
    return absl::UnavailableError(
        absl::StrCat("media file '", ShownMediaPath(path), "' changed while it was opened"));
  OpenedMediaFile out;
  out.fd = std::move(file);
  out.size_bytes = static_cast<int64_t>(opened.st_size);
  return out;
}

}  // namespace labelport::common
