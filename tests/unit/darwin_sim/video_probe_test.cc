#include "video_probe.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "media_probe.h"
#include "video_frames.h"

namespace labelport::darwin_sim {
namespace {

// Encodes ffmpeg's test pattern into `file_name` under the test's temp dir.
std::string MakeVideo(const std::string& file_name, const std::string& lavfi_source,
                      const std::string& codec_args) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("video_probe_test_", ::getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / file_name;
  const std::string cmd = absl::StrCat("ffmpeg -hide_banner -loglevel error -y -f lavfi -i ",
                                       lavfi_source, " ", codec_args, " ", path.string());
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A video ffmpeg encodes and what ProbeVideo must read from it.
struct ProbeCase {
  const char* test_name;
  const char* file_name;
  const char* lavfi_source;
  const char* codec_args;
  const char* codec;
  int width;
  int height;
  double fps;
  int64_t frame_count;

  friend void PrintTo(const ProbeCase& c, std::ostream* os) { *os << c.file_name; }
};

class ProbeVideoCaseTest : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(ProbeVideoCaseTest, ReadsCodecSizeRateAndFrameCount) {
  const ProbeCase& c = GetParam();
  absl::StatusOr<VideoInfo> info = ProbeVideo(MakeVideo(c.file_name, c.lavfi_source, c.codec_args));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->codec, c.codec);
  EXPECT_EQ(info->width, c.width);
  EXPECT_EQ(info->height, c.height);
  EXPECT_DOUBLE_EQ(info->fps, c.fps);
  EXPECT_EQ(info->frame_count, c.frame_count);
}

INSTANTIATE_TEST_SUITE_P(
    ProbeVideoTest, ProbeVideoCaseTest,
    ::testing::Values(ProbeCase{"Mp4H264", "a.mp4", "testsrc=size=320x240:rate=10 -t 2",
                                "-c:v libx264 -pix_fmt yuv420p", "h264", 320, 240, 10, 20},
                      // WebM has no frame count in the container: the packets are counted.
                      ProbeCase{"WebmVp8CountsPacketsWithoutAFrameCountInTheContainer", "b.webm",
                                "testsrc=size=160x120:rate=25 -t 1", "-c:v libvpx", "vp8", 160, 120,
                                25, 25}),
    [](const ::testing::TestParamInfo<ProbeCase>& info) { return info.param.test_name; });

TEST(ProbeVideoTest, RejectsWhatIsNotADecodableVideo) {
  const std::string mp4 =
      MakeVideo("c.mp4", "testsrc=size=64x48:rate=10 -t 1", "-c:v libx264 -pix_fmt yuv420p");
  const std::string png = MakeVideo("d.png", "testsrc=size=64x48:rate=1 -frames:v 1", "");
  const std::string audio = MakeVideo("e.m4a", "sine=frequency=440:duration=1", "-c:a aac");
  for (const std::string& bytes :
       {std::string(), std::string(4096, '\x42'), mp4.substr(0, mp4.size() / 3), png, audio}) {
    absl::StatusOr<VideoInfo> info = ProbeVideo(bytes);
    ASSERT_FALSE(info.ok()) << bytes.size();
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(info.status().message(), "not a decodable video"))
        << info.status();
  }
}

TEST(VideoFramePngTest, DecodesTheFrameAskedForAsPng) {
  const std::string bytes =
      MakeVideo("f.mp4", "testsrc=size=160x120:rate=10 -t 1", "-c:v libx264 -pix_fmt yuv420p");
  absl::StatusOr<std::string> png = VideoFramePng(bytes, 5, 10, 10);
  ASSERT_TRUE(png.ok()) << png.status();
  absl::StatusOr<ImageInfo> image = ProbeImage(*png);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->format, "png");
  EXPECT_EQ(image->width, 160);
  EXPECT_EQ(image->height, 120);
  EXPECT_NE(*VideoFramePng(bytes, 4, 10, 10), *png);  // testsrc's counter moves.
  // Sampled at 5 fps, frame 2 is native frame 4.
  EXPECT_EQ(*VideoFramePng(bytes, 2, 5, 10), *VideoFramePng(bytes, 4, 10, 10));
  EXPECT_EQ(VideoFramePng(bytes, 10, 10, 10).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(VideoFramePng("not a video", 0, 10, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SampleVideoTest, SamplesBelowTheNativeRateOnly) {
  const VideoInfo info{"mp4", "h264", 10, 10, 30, 90};  // 3 s at 30 fps.
  EXPECT_EQ(SampleVideo(info, 0).frame_count, 90);
  EXPECT_DOUBLE_EQ(SampleVideo(info, 0).fps, 30);
  EXPECT_EQ(SampleVideo(info, 60).frame_count, 90);
  EXPECT_EQ(SampleVideo(info, 10).frame_count, 30);
  EXPECT_DOUBLE_EQ(SampleVideo(info, 10).fps, 10);
  EXPECT_EQ(SampleVideo(info, 4).frame_count, 12);
  EXPECT_EQ(SampleVideo(info, 0.1).frame_count, 1);
}

}  // namespace
}  // namespace labelport::darwin_sim
