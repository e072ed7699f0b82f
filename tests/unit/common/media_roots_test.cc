#include "service/common/media_roots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/common/errors.h"

namespace labelport::common {
namespace {

using ::testing::HasSubstr;

MATCHER(IsNotAllowed, "") {
  return arg.code() == absl::StatusCode::kPermissionDenied &&
         ErrorReason(arg) == std::string(kMediaPathNotAllowedReason);
}

TEST(NormalizeMediaRootTest, AbsoluteWithoutDotsOrRepeatedSlashes) {
  EXPECT_EQ(*NormalizeMediaRoot("/srv/media"), "/srv/media");
  EXPECT_EQ(*NormalizeMediaRoot("/srv//media/./"), "/srv/media");
  EXPECT_EQ(*NormalizeMediaRoot("/"), "/");
  EXPECT_EQ(*NormalizeMediaRoot("//"), "/");
  auto relative = NormalizeMediaRoot("srv/media");
  EXPECT_EQ(relative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(relative.status().message()), HasSubstr("must be an absolute"));
  auto dots = NormalizeMediaRoot("/srv/../etc");
  EXPECT_EQ(dots.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(dots.status().message()), HasSubstr("'..'"));
}

TEST(MatchMediaRootTest, PicksTheOutermostContainingRoot) {
  const std::vector<std::string> roots = {"/srv/media/acme", "/srv/media", "/data"};
  auto match = MatchMediaRoot("/srv/media/acme/cats/1.png", roots);
  ASSERT_TRUE(match.ok()) << match.status();
  EXPECT_EQ(match->root, "/srv/media");
  EXPECT_EQ(match->relative, "acme/cats/1.png");
  match = MatchMediaRoot("/data//x/./y.jpg", roots);
  ASSERT_TRUE(match.ok()) << match.status();
  EXPECT_EQ(match->root, "/data");
  EXPECT_EQ(match->relative, "x/y.jpg");
  // The root itself, and a trailing slash kept for the kernel to judge.
  EXPECT_EQ(MatchMediaRoot("/data", roots)->relative, ".");
  EXPECT_EQ(MatchMediaRoot("/data/x.png/", roots)->relative, "x.png/");
  // "/" contains everything.
  match = MatchMediaRoot("/etc/hosts", {"/"});
  ASSERT_TRUE(match.ok());
  EXPECT_EQ(match->root, "/");
  EXPECT_EQ(match->relative, "etc/hosts");
}

TEST(MatchMediaRootTest, RefusesOutsideDotDotAndRelativeAlike) {
  const std::vector<std::string> roots = {"/srv/media"};
  const std::vector<std::string> refused = {
      "/srv/mediax/a.png",         // a sibling sharing the prefix
      "/srv/a.png",                // above
      "/etc/passwd",               // elsewhere
      "/srv/media/../secret.png",  // escapes by ".."
      "/srv/media/x/../a.png",     // stays inside, but ".." is never allowed
      "srv/media/a.png",           // relative
  };
  for (const std::string& path : refused) {
    auto match = MatchMediaRoot(path, roots);
    EXPECT_THAT(match.status(), IsNotAllowed()) << path;
    EXPECT_EQ(std::string(match.status().message()),
              std::string(MediaPathNotAllowed(path).message()))
        << path;
    EXPECT_THAT(std::string(match.status().message()), HasSubstr(absl::StrCat("'", path, "'")));
  }
}

TEST(MatchMediaRootTest, NoRootsSaysHowToSendMediaInstead) {
  auto match = MatchMediaRoot("/srv/media/a.png", {});
  EXPECT_THAT(match.status(), IsNotAllowed());
  EXPECT_THAT(std::string(match.status().message()), HasSubstr("no media roots"));
  EXPECT_THAT(std::string(match.status().message()), HasSubstr("content_digest"));
}

TEST(ShownMediaPathTest, CutsLongPathsOnACharacterBoundary) {
  EXPECT_EQ(ShownMediaPath("/a/b.png"), "/a/b.png");
  const std::string long_path = "/" + std::string(300, 'x');
  EXPECT_EQ(ShownMediaPath(long_path), absl::StrCat(long_path.substr(0, 200), "..."));
  // "é" is two bytes; byte 200 would split the 100th one.
  std::string accents = "/";
  for (int i = 0; i < 150; ++i) accents += "\xc3\xa9";
  const std::string shown = ShownMediaPath(accents);
  EXPECT_EQ(shown, absl::StrCat(accents.substr(0, 199), "..."));
  EXPECT_LE(MediaPathNotAllowed(long_path).message().size(), 500u);
}

class MediaRootDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ =
        std::filesystem::path(::testing::TempDir()) / absl::StrCat("media_roots_test_", ::getpid());
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_ / "media" / "sub");
    std::filesystem::create_directories(base_ / "data" / "media");
    std::ofstream(base_ / "file.txt") << "x";
    std::filesystem::create_directory_symlink(base_ / "data", base_ / "data_link");
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::string P(const std::string& rel) const { return (base_ / rel).string(); }

  std::filesystem::path base_;
};

TEST_F(MediaRootDirectoryTest, ExistingDirectoriesOutsideTheDataDirAreFine) {
  EXPECT_TRUE(CheckMediaRootDirectory(P("media"), P("data")).ok());
  EXPECT_TRUE(CheckMediaRootDirectory(P("media/sub"), P("data")).ok());
  // A root may contain the data dir: its files are refused when opened.
  EXPECT_TRUE(CheckMediaRootDirectory(base_.string(), P("data")).ok());
  // A data dir that does not exist yet is resolved as far as it exists.
  EXPECT_TRUE(CheckMediaRootDirectory(P("media"), P("not-yet/data")).ok());
}

TEST_F(MediaRootDirectoryTest, RefusesMissingFilesAndTheDataDir) {
  auto missing = CheckMediaRootDirectory(P("nowhere"), P("data"));
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("is not an existing directory"));
  EXPECT_EQ(CheckMediaRootDirectory(P("file.txt"), P("data")).code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* inside : {"data", "data/media", "data_link/media"}) {
    auto refused = CheckMediaRootDirectory(P(inside), P("data"));
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << inside;
    EXPECT_THAT(std::string(refused.message()), HasSubstr("lies inside the data directory"));
  }
  // The data dir named through a symlink is the same directory.
  EXPECT_EQ(CheckMediaRootDirectory(P("data/media"), P("data_link")).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labelport::common
