#include "service/common/media_path_opener.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "service/common/errors.h"
#include "service/common/media_roots.h"

namespace labelport::common {
namespace {

using ::testing::HasSubstr;

// Layout (under a fresh temporary directory):
//   root/img.png, root/sub/pic.png, root/sub/dir/
//   root/inside_link -> sub/pic.png            (relative, stays inside)
//   root/abs_link -> <base>/outside/secret.txt (absolute)
//   root/escape_link -> ../outside/secret.txt  (relative, leaves the root)
//   root/escape_missing -> ../outside/nothing  (leaves the root, no target)
//   root/escape_dir -> ../outside              (a directory outside)
//   root/key_hardlink = hard link of protected/key.txt
//   root/fifo                                   (a named pipe)
//   root/data/labelport.db                      (the data dir inside a root)
//   outside/secret.txt, protected/key.txt
class MediaPathOpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("media_path_opener_test_", ::getpid());
    std::filesystem::remove_all(base_);
    for (const char* dir : {"root/sub/dir", "root/data", "outside", "protected"})
      std::filesystem::create_directories(base_ / dir);
    Write("root/img.png", "inside bytes");
    Write("root/sub/pic.png", "picture");
    Write("outside/secret.txt", "outside secret");
    Write("protected/key.txt", "v7 key");
    Write("root/data/labelport.db", "the store");
    std::filesystem::create_symlink("sub/pic.png", base_ / "root/inside_link");
    std::filesystem::create_symlink(base_ / "outside/secret.txt", base_ / "root/abs_link");
    std::filesystem::create_symlink("../outside/secret.txt", base_ / "root/escape_link");
    std::filesystem::create_symlink("../outside/nothing", base_ / "root/escape_missing");
    std::filesystem::create_symlink("../outside", base_ / "root/escape_dir");
    std::filesystem::create_hard_link(base_ / "protected/key.txt", base_ / "root/key_hardlink");
    ASSERT_EQ(::mkfifo(P("root/fifo").c_str(), 0600), 0);
    policy_.roots = {P("root")};
    policy_.protected_files = std::make_shared<const ProtectedFiles>(
        std::vector<std::string>{P("root/data")}, std::vector<std::string>{P("protected/key.txt")});
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(base_ / rel, std::ios::binary) << text;
  }
  std::string P(const std::string& rel) const { return (base_ / rel).string(); }

  static std::string ReadAll(int fd) {
    std::string out;
    char buffer[256];
    ssize_t n;
    off_t offset = 0;
    while ((n = ::pread(fd, buffer, sizeof(buffer), offset)) > 0) {
      out.append(buffer, static_cast<size_t>(n));
      offset += n;
    }
    return out;
  }

  // The refusal, with the path replaced so that refusals of different paths
  // can be compared.
  static std::string Shape(const absl::Status& status, const std::string& path) {
    return absl::StrCat(absl::StatusCodeToString(status.code()), " ",
                        ErrorReason(status).value_or("-"), " ",
                        absl::StrReplaceAll(status.message(), {{path, "<path>"}}));
  }

  std::filesystem::path base_;
  MediaPathPolicy policy_;
};

TEST_F(MediaPathOpenerTest, OpensRegularFilesBeneathTheRoot) {
  auto file = OpenMediaPath(P("root/img.png"), policy_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size_bytes, 12);
  EXPECT_EQ(ReadAll(file->fd.get()), "inside bytes");
  file = OpenMediaPath(P("root/sub/pic.png"), policy_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(ReadAll(file->fd.get()), "picture");
}

TEST_F(MediaPathOpenerTest, FollowsSymlinksThatStayInside) {
  auto file = OpenMediaPath(P("root/inside_link"), policy_);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(ReadAll(file->fd.get()), "picture");
}

TEST_F(MediaPathOpenerTest, ReadsTheOpenedFileEvenWhenThePathIsSwappedAfterwards) {
  auto file = OpenMediaPath(P("root/img.png"), policy_);
  ASSERT_TRUE(file.ok()) << file.status();
  std::filesystem::remove(base_ / "root/img.png");
  std::filesystem::create_symlink(base_ / "outside/secret.txt", base_ / "root/img.png");
  EXPECT_EQ(ReadAll(file->fd.get()), "inside bytes");
}

TEST_F(MediaPathOpenerTest, EveryEscapeAndProtectedFileGetsTheSameRefusal) {
  const std::vector<std::string> refused = {
      P("outside/secret.txt"),          // not under the root
      P("outside/nothing"),             // not under the root, and missing
      P("root/../outside/secret.txt"),  // ".." out of the root
      P("root/sub/../img.png"),         // ".." even when it stays inside
      P("root/abs_link"),               // absolute symlink
      P("root/escape_link"),            // relative symlink leaving the root
      P("root/escape_missing"),         // the same, to a missing file
      P("root/escape_dir/secret.txt"),  // through a directory symlink
      P("root/key_hardlink"),           // a protected file's hard link
      P("root/data/labelport.db"),      // beneath the protected data dir
      P("root/data"),                   // the data dir itself
      P("protected/key.txt"),           // outside, and protected
      "/etc/passwd",                    // elsewhere
      "relative/img.png",               // not absolute
  };
  const std::string expected = Shape(MediaPathNotAllowed("<path>"), "<path>");
  for (const std::string& path : refused) {
    auto file = OpenMediaPath(path, policy_);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(Shape(file.status(), path), expected) << path;
  }
}

TEST_F(MediaPathOpenerTest, TheProtectedSetIsReadAtEachOpen) {
  std::vector<std::string> listed;
  policy_.protected_files = std::make_shared<const ProtectedFiles>(
      std::vector<std::string>{}, std::vector<std::string>{}, [&listed] { return listed; });
  ASSERT_TRUE(OpenMediaPath(P("root/key_hardlink"), policy_).ok());
  listed = {P("protected/key.txt")};
  EXPECT_EQ(OpenMediaPath(P("root/key_hardlink"), policy_).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(MediaPathOpenerTest, MagicLinksAreRefused) {
  policy_.roots = {"/"};
  auto file = OpenMediaPath("/proc/self/root/etc/hostname", policy_);
  EXPECT_EQ(Shape(file.status(), "/proc/self/root/etc/hostname"),
            Shape(MediaPathNotAllowed("<path>"), "<path>"));
}

TEST_F(MediaPathOpenerTest, InsideTheRootMissingAndNonRegularFilesAreTold) {
  auto missing = OpenMediaPath(P("root/nothing.png"), policy_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("does not exist"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(P("root/nothing.png")));
  EXPECT_EQ(OpenMediaPath(P("root/nope/x.png"), policy_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenMediaPath(P("root/img.png/x"), policy_).status().code(),
            absl::StatusCode::kNotFound);
  for (const char* rel : {"root/sub/dir", "root", "root/fifo"}) {
    auto other = OpenMediaPath(P(rel), policy_);
    EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument) << rel;
    EXPECT_THAT(std::string(other.status().message()), HasSubstr("is not a regular file"));
  }
}

TEST_F(MediaPathOpenerTest, NoRootsRefusesEveryPath) {
  policy_.roots.clear();
  auto file = OpenMediaPath(P("root/img.png"), policy_);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(file.status()), std::string(kMediaPathNotAllowedReason));
}

}  // namespace
}  // namespace labelport::common
