// ScratchDir: a test's own empty directory beneath gtest's TempDir(), for
// files a test writes; removed with everything in it on destruction.
#ifndef LABELPORT_TESTS_UNIT_COMMON_SCRATCH_DIR_H_
#define LABELPORT_TESTS_UNIT_COMMON_SCRATCH_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace labelport::testing {

class ScratchDir {
 public:
  // The directory "<name>_<pid>" beneath TempDir(), emptied first (a crashed
  // earlier run may have left it).
  explicit ScratchDir(absl::string_view name)
      : path_(std::filesystem::path(::testing::TempDir()) / absl::StrCat(name, "_", ::getpid())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_SCRATCH_DIR_H_
