#include "media_probe.h"

#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::darwin_sim {
namespace {

uint32_t Be16(std::string_view b, size_t at) {
  return (static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]);
}
uint32_t Be32(std::string_view b, size_t at) { return (Be16(b, at) << 16) | Be16(b, at + 2); }
uint32_t Le16(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t Le32(std::string_view b, size_t at) { return Le16(b, at) | (Le16(b, at + 2) << 16); }
uint32_t Le24(std::string_view b, size_t at) {
  return Le16(b, at) | (static_cast<uint8_t>(b[at + 2]) << 16);
}

absl::Status Truncated(std::string_view format) {
  return absl::InvalidArgumentError(
      absl::StrCat("truncated or malformed ", std::string(format), " header"));
}

absl::StatusOr<ImageInfo> Finish(std::string format, int64_t w, int64_t h) {
  if (w <= 0 || h <= 0 || w > 1 << 30 || h > 1 << 30) {
    return absl::InvalidArgumentError(
        absl::StrCat(format, " header has invalid dimensions ", w, "x", h));
  }
  return ImageInfo{std::move(format), static_cast<int>(w), static_cast<int>(h)};
}

absl::StatusOr<ImageInfo> ProbePng(std::string_view b) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return Truncated("PNG");
  return Finish("png", Be32(b, 16), Be32(b, 20));
}

absl::StatusOr<ImageInfo> ProbeJpeg(std::string_view b) {
  size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (static_cast<uint8_t>(b[pos]) != 0xFF) return Truncated("JPEG");
    const uint8_t marker = static_cast<uint8_t>(b[pos + 1]);
    if (marker == 0xFF) {  // Fill byte.
      ++pos;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      pos += 2;  // Markers without a length.
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // EOI / SOS before any SOF.
    const uint32_t len = Be16(b, pos + 2);
    if (len < 2) return Truncated("JPEG");
    const bool is_sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      if (pos + 9 > b.size()) return Truncated("JPEG");
      return Finish("jpeg", Be16(b, pos + 7), Be16(b, pos + 5));
    }
    pos += 2 + len;
  }
  return Truncated("JPEG");
}

absl::StatusOr<ImageInfo> ProbeBmp(std::string_view b) {
  if (b.size() < 26) return Truncated("BMP");
  const uint32_t header_size = Le32(b, 14);
  if (header_size == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes.
    return Finish("bmp", Le16(b, 18), Le16(b, 20));
  }
  const int32_t w = static_cast<int32_t>(Le32(b, 18));
  const int32_t h = static_cast<int32_t>(Le32(b, 22));  // Negative: top-down.
  return Finish("bmp", w, std::abs(static_cast<int64_t>(h)));
}

absl::StatusOr<ImageInfo> ProbeGif(std::string_view b) {
  if (b.size() < 10) return Truncated("GIF");
  return Finish("gif", Le16(b, 6), Le16(b, 8));
}

absl::StatusOr<ImageInfo> ProbeWebp(std::string_view b) {
  if (b.size() < 30) return Truncated("WebP");
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // Frame header: 3 bytes tag, 3 bytes start code 9d 01 2a, then sizes.
    if (static_cast<uint8_t>(b[23]) != 0x9d || static_cast<uint8_t>(b[24]) != 0x01 ||
        static_cast<uint8_t>(b[25]) != 0x2a) {
      return Truncated("WebP VP8");
    }
    return Finish("webp", Le16(b, 26) & 0x3FFF, Le16(b, 28) & 0x3FFF);
  }
  if (chunk == "VP8L") {
    if (static_cast<uint8_t>(b[20]) != 0x2f) return Truncated("WebP VP8L");
    const uint32_t bits = Le32(b, 21);
    return Finish("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") {
    return Finish("webp", Le24(b, 24) + 1, Le24(b, 27) + 1);
  }
  return Truncated("WebP");
}

absl::StatusOr<ImageInfo> ProbeTiff(std::string_view b) {
  const bool le = b[0] == 'I';
  auto u16 = [&](size_t at) { return le ? Le16(b, at) : Be16(b, at); };
  auto u32 = [&](size_t at) { return le ? Le32(b, at) : Be32(b, at); };
  if (b.size() < 8) return Truncated("TIFF");
  const uint32_t ifd = u32(4);
  if (ifd + 2 > b.size()) return Truncated("TIFF");
  const uint32_t count = u16(ifd);
  int64_t w = 0, h = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + 12 * i;
    if (e + 12 > b.size()) return Truncated("TIFF");
    const uint32_t tag = u16(e);
    const uint32_t type = u16(e + 2);
    const uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    if (tag == 256) w = value;
    if (tag == 257) h = value;
  }
  return Finish("tiff", w, h);
}

}  // namespace

absl::StatusOr<ImageInfo> ProbeImage(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return ProbePng(b);
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8 &&
      static_cast<uint8_t>(b[2]) == 0xFF) {
    return ProbeJpeg(b);
  }
  if (b.size() >= 2 && b.substr(0, 2) == "BM") return ProbeBmp(b);
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) {
    return ProbeGif(b);
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    return ProbeWebp(b);
  }
  if (b.size() >= 4 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                        b.substr(0, 4) == std::string_view("MM\0*", 4))) {
    return ProbeTiff(b);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unrecognised image format (", b.size(), " bytes)"));
}

}  // namespace labelport::darwin_sim
