#include "service/common/protected_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace labelport::common {
namespace {

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool IsBeneath(const std::string& path, const std::string& dir) {
  return path == dir || dir == "/" || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

}  // namespace

ProtectedFiles::ProtectedFiles(const std::vector<std::string>& dirs, std::vector<std::string> files,
                               Lister more_files)
    : files_(std::move(files)), more_files_(std::move(more_files)) {
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::path real =
        std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
    // Unresolvable: the name as given still protects what lies beneath it.
    dirs_.push_back(ec ? std::filesystem::absolute(dir).lexically_normal().string()
                       : real.string());
    while (dirs_.back().size() > 1 && dirs_.back().back() == '/') dirs_.back().pop_back();
  }
}

absl::StatusOr<bool> ProtectedFiles::Contains(int fd) const {
  struct stat opened {};
  if (::fstat(fd, &opened) != 0)
    return absl::UnavailableError(
        absl::StrCat("cannot examine an opened media file: ", std::strerror(errno)));
  auto listed = [&](const std::string& file) {
    struct stat st {};
    return !file.empty() && ::stat(file.c_str(), &st) == 0 && SameFile(st, opened);
  };
  for (const std::string& file : files_) {
    if (listed(file)) return true;
  }
  if (more_files_) {
    for (const std::string& file : more_files_()) {
      if (listed(file)) return true;
    }
  }
  if (dirs_.empty()) return false;
  // The kernel's name of the open file: its real path, whatever the path
  // and symlinks it was opened through.
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  std::string real(4096, '\0');
  const ssize_t n = ::readlink(link.c_str(), real.data(), real.size());
  if (n < 0 || static_cast<size_t>(n) >= real.size())
    return absl::UnavailableError(
        "cannot tell where an opened media file lies (is /proc mounted?)");
  real.resize(static_cast<size_t>(n));
  for (const std::string& dir : dirs_) {
    if (IsBeneath(real, dir)) return true;
  }
  return false;
}

}  // namespace labelport::common
