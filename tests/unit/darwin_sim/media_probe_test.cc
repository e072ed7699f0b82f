#include "media_probe.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace labelport::darwin_sim {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string Be32(uint32_t v) {
  return Bytes({int(v >> 24), int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)});
}
std::string Le16(uint32_t v) { return Bytes({int(v & 255), int(v >> 8)}); }
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }

std::string Png(uint32_t w, uint32_t h) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + Be32(13) + "IHDR" + Be32(w) + Be32(h) +
         Bytes({8, 2, 0, 0, 0});
}

// What ProbeImage reads from `bytes`: "<format> <width>x<height>", or the
// error.
std::string Probed(const std::string& bytes) {
  absl::StatusOr<ImageInfo> info = ProbeImage(bytes);
  if (!info.ok()) return info.status().ToString();
  return absl::StrCat(info->format, " ", info->width, "x", info->height);
}

TEST(ProbeImageTest, Png) { EXPECT_EQ(Probed(Png(640, 436)), "png 640x436"); }

TEST(ProbeImageTest, JpegSkipsSegmentsBeforeSof) {
  // SOI, APP0 (length 16), DQT-like segment, SOF2 (progressive) 1920x1080.
  std::string jpeg = Bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10}) + std::string(14, 'J') +
                     Bytes({0xFF, 0xDB, 0x00, 0x04, 0x01, 0x02}) +
                     Bytes({0xFF, 0xC2, 0x00, 0x11, 0x08, 0x04, 0x38, 0x07, 0x80, 0x03});
  EXPECT_EQ(Probed(jpeg), "jpeg 1920x1080");
}

TEST(ProbeImageTest, JpegWithoutSofIsAnError) {
  EXPECT_FALSE(ProbeImage(Bytes({0xFF, 0xD8, 0xFF, 0xD9})).ok());
  EXPECT_FALSE(ProbeImage(Bytes({0xFF, 0xD8, 0xFF, 0xC0, 0x00})).ok());
}

TEST(ProbeImageTest, BmpTopDownHeightIsPositive) {
  std::string bmp = "BM" + std::string(12, '\0') + Le32(40) + Le32(33) +
                    Le32(static_cast<uint32_t>(-22)) + std::string(8, '\0');
  EXPECT_EQ(Probed(bmp), "bmp 33x22");
}

TEST(ProbeImageTest, Gif) { EXPECT_EQ(Probed("GIF89a" + Le16(17) + Le16(9) + "rest"), "gif 17x9"); }

TEST(ProbeImageTest, WebpLossyLosslessAndExtended) {
  const std::string riff = "RIFF" + Le32(100) + "WEBP";
  std::string vp8 = riff + "VP8 " + Le32(50) + Bytes({0, 0, 0, 0x9d, 0x01, 0x2a}) + Le16(300) +
                    Le16(200) + std::string(4, '\0');
  // VP8L: signature 0x2f then 14-bit (w-1), 14-bit (h-1).
  const uint32_t bits = (300 - 1) | ((200 - 1) << 14);
  std::string vp8l = riff + "VP8L" + Le32(50) + Bytes({0x2f}) + Le32(bits) + std::string(8, '\0');
  std::string vp8x =
      riff + "VP8X" + Le32(10) + Le32(0) + Bytes({43, 1, 0, 199, 0, 0}) + std::string(4, '\0');
  for (const std::string& webp : {vp8, vp8l, vp8x}) {
    EXPECT_EQ(Probed(webp), "webp 300x200");
  }
}

TEST(ProbeImageTest, TiffLittleEndian) {
  // Header, IFD at 8 with two SHORT entries: 256 (width) and 257 (height).
  std::string tiff = std::string("II*\0", 4) + Le32(8) + Le16(2) + Le16(256) + Le16(3) + Le32(1) +
                     Le16(77) + Le16(0) + Le16(257) + Le16(3) + Le32(1) + Le16(55) + Le16(0) +
                     Le32(0);
  EXPECT_EQ(Probed(tiff), "tiff 77x55");
}

TEST(ProbeImageTest, RejectsGarbageTruncationAndZeroSizes) {
  EXPECT_FALSE(ProbeImage("").ok());
  EXPECT_FALSE(ProbeImage("definitely not an image").ok());
  EXPECT_FALSE(ProbeImage(Png(10, 10).substr(0, 20)).ok());
  EXPECT_FALSE(ProbeImage(Png(0, 10)).ok());
  EXPECT_FALSE(ProbeImage("GIF89a").ok());
  EXPECT_EQ(ProbeImage("nope").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labelport::darwin_sim
