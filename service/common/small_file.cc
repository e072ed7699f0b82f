#include "service/common/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace labelport::common {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, int64_t max_bytes,
                                          absl::string_view what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        absl::StrCat(what, " '", path, "' cannot be read: ", std::strerror(error));
    if (error == ENOENT || error == ENOTDIR) return absl::NotFoundError(message);
    if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  struct Closer {
    ~Closer() { ::close(fd); }
    int fd;
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return absl::UnavailableError(
        absl::StrCat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is not a regular file"));
  if (st.st_size > max_bytes)
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' is larger than ", max_bytes, " bytes"));
  std::string contents;
  char buffer[16 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(
          absl::StrCat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
    }
    if (n == 0) break;
    // The file may grow after fstat: the bound holds for what is read.
    if (static_cast<int64_t>(contents.size()) + n > max_bytes)
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", path, "' is larger than ", max_bytes, " bytes"));
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

}  // namespace labelport::common
