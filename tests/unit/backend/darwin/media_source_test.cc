#include "service/backend/darwin/media_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/errors.h"
#include "service/common/media_roots.h"
#include "tests/unit/backend/darwin/fake_http_client.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/common/scratch_dir.h"

namespace labelport::backend::darwin {
namespace {

using ::labelport::testing::RunSync;

// Every chunk of one attempt, concatenated.
absl::StatusOr<std::string> ReadAttempt(const MediaSource& source) {
  return RunSync([&source]() -> boost::asio::awaitable<absl::StatusOr<std::string>> {
    http::BodyChunkSource next = source.body_factory()();
    std::string out;
    while (true) {
      auto chunk = co_await next();
      if (!chunk.ok()) co_return chunk.status();
      if (chunk->empty()) co_return out;
      out += *chunk;
    }
  }());
}

class MediaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(base_ / "root");
    std::filesystem::create_directories(base_ / "outside");
    // More than two 1 MiB chunks, with a pattern that shows misplaced offsets.
    for (int i = 0; bytes_.size() < (5u << 19); ++i) absl::StrAppend(&bytes_, i, ",");
    std::ofstream(base_ / "root" / "big.bin", std::ios::binary) << bytes_;
    std::ofstream(base_ / "outside" / "secret.txt") << "secret";
    paths_.roots = {(base_ / "root").string()};
  }

  absl::StatusOr<std::shared_ptr<MediaSource>> Open(const std::string& path) {
    labelport::v1::MediaReference media;
    media.set_path(path);
    return RunSync(
        OpenMedia(media, http_, "/unused", "/tmp", absl::Now() + absl::Seconds(10), paths_));
  }

  const labelport::testing::ScratchDir scratch_{"media_source_test"};
  const std::filesystem::path base_ = scratch_.path();
  std::string bytes_;
  common::MediaPathPolicy paths_;
  http::testing::FakeHttpClient http_;
};

TEST_F(MediaSourceTest, EveryAttemptReadsTheFileOpenedOnce) {
  const std::filesystem::path file = base_ / "root" / "big.bin";
  auto source = Open(file.string());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->size_bytes(), static_cast<int64_t>(bytes_.size()));
  EXPECT_EQ(ReadAttempt(**source).value_or("<error>"), bytes_);
  // The path now names another file (outside the root): a retry still reads
  // the bytes that were opened.
  std::filesystem::remove(file);
  std::filesystem::create_symlink(base_ / "outside" / "secret.txt", file);
  EXPECT_EQ(ReadAttempt(**source).value_or("<error>"), bytes_);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(MediaSourceTest, PathsOutsideTheRootsAreRefused) {
  auto source = Open((base_ / "outside" / "secret.txt").string());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(common::ErrorReason(source.status()), std::string(common::kMediaPathNotAllowedReason));
  paths_.roots.clear();
  EXPECT_EQ(Open((base_ / "root" / "big.bin").string()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace labelport::backend::darwin
