#include "video_frames.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ffmpeg_ptrs.h"
#include "video_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

namespace labelport::darwin_sim {
namespace {

uint8_t Clamp(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

// `frame` as RGB24. Errors: InvalidArgument for pixel formats other than
// 8-bit planar YUV (BT.601, limited or full range) and 8-bit packed RGB.
absl::StatusOr<FramePtr> ToRgb(const AVFrame& frame) {
  const auto format = static_cast<AVPixelFormat>(frame.format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  const bool rgb = desc != nullptr && (desc->flags & AV_PIX_FMT_FLAG_RGB) != 0;
  const bool planar = desc != nullptr && (desc->flags & AV_PIX_FMT_FLAG_PLANAR) != 0;
  const bool eight_bit = desc != nullptr && desc->nb_components >= 3 && desc->comp[0].depth == 8 &&
                         desc->comp[1].depth == 8 && desc->comp[2].depth == 8 &&
                         (desc->flags & AV_PIX_FMT_FLAG_PAL) == 0 &&
                         (desc->flags & AV_PIX_FMT_FLAG_BITSTREAM) == 0;
  if (!eight_bit || (rgb && planar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("darwin-sim cannot convert video frames in pixel format ",
                     desc == nullptr ? "unknown" : desc->name, " to PNG"));
  }
  FramePtr out(av_frame_alloc());
  if (out == nullptr) return absl::ResourceExhaustedError("out of memory for a frame image");
  out->format = AV_PIX_FMT_RGB24;
  out->width = frame.width;
  out->height = frame.height;
  if (av_frame_get_buffer(out.get(), 0) < 0) {
    return absl::ResourceExhaustedError("out of memory for a frame image");
  }
  const bool full_range = frame.color_range == AVCOL_RANGE_JPEG || format == AV_PIX_FMT_YUVJ420P ||
                          format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P;
  for (int y = 0; y < frame.height; ++y) {
    uint8_t* row = out->data[0] + static_cast<ptrdiff_t>(y) * out->linesize[0];
    for (int x = 0; x < frame.width; ++x) {
      uint8_t* px = row + 3 * x;
      if (rgb) {  // Packed: every component in plane 0 at its offset and step.
        for (int c = 0; c < 3; ++c) {
          const AVComponentDescriptor& comp = desc->comp[c];
          px[c] = frame.data[0][static_cast<ptrdiff_t>(y) * frame.linesize[0] + x * comp.step +
                                comp.offset];
        }
        continue;
      }
      const int cx = x >> desc->log2_chroma_w;
      const int cy = y >> desc->log2_chroma_h;
      const double luma = frame.data[0][static_cast<ptrdiff_t>(y) * frame.linesize[0] + x];
      const double u = frame.data[1][static_cast<ptrdiff_t>(cy) * frame.linesize[1] + cx] - 128.0;
      const double v = frame.data[2][static_cast<ptrdiff_t>(cy) * frame.linesize[2] + cx] - 128.0;
      if (full_range) {
        px[0] = Clamp(luma + 1.402 * v);
        px[1] = Clamp(luma - 0.344136 * u - 0.714136 * v);
        px[2] = Clamp(luma + 1.772 * u);
      } else {
        const double l = 1.164 * (luma - 16);
        px[0] = Clamp(l + 1.596 * v);
        px[1] = Clamp(l - 0.392 * u - 0.813 * v);
        px[2] = Clamp(l + 2.017 * u);
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> EncodePng(const AVFrame& rgb) {
  const AVCodec* png = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (png == nullptr) return absl::InternalError("FFmpeg has no PNG encoder");
  CodecPtr codec(avcodec_alloc_context3(png));
  PacketPtr packet(av_packet_alloc());
  if (codec == nullptr || packet == nullptr) {
    return absl::ResourceExhaustedError("out of memory for the PNG encoder");
  }
  codec->width = rgb.width;
  codec->height = rgb.height;
  codec->pix_fmt = AV_PIX_FMT_RGB24;
  codec->time_base = AVRational{1, 25};
  if (avcodec_open2(codec.get(), png, nullptr) < 0 || avcodec_send_frame(codec.get(), &rgb) < 0 ||
      avcodec_receive_packet(codec.get(), packet.get()) < 0) {
    return absl::InternalError("PNG encoding of a video frame failed");
  }
  return std::string(reinterpret_cast<const char*>(packet->data), packet->size);
}

}  // namespace

absl::StatusOr<std::string> VideoFramePng(std::string_view bytes, int64_t frame, double fps,
                                          double native_fps) {
  if (frame < 0) return absl::OutOfRangeError("frame index must be >= 0");
  // Frame `frame` of a slot sampled below the native rate is the native frame
  // shown at time frame / fps.
  const int64_t target =
      fps > 0 && native_fps > fps
          ? static_cast<int64_t>(std::floor(static_cast<double>(frame) * native_fps / fps + 1e-9))
          : frame;
  absl::StatusOr<std::unique_ptr<VideoDecoder>> opened = VideoDecoder::Open(bytes);
  if (!opened.ok()) return opened.status();
  VideoDecoder& decoder = **opened;
  int64_t decoded = 0;
  bool more = true;
  while (more) {
    more = decoder.ReadPacket();
    if (!decoder.SendPacket() && more) continue;
    while (const AVFrame* f = decoder.ReceiveFrame()) {
      if (decoded++ != target) continue;
      absl::StatusOr<FramePtr> rgb = ToRgb(*f);
      if (!rgb.ok()) return rgb.status();
      return EncodePng(**rgb);
    }
  }
  return absl::OutOfRangeError(
      absl::StrCat("frame ", frame, " is past the end of the video (", decoded, " frames)"));
}

}  // namespace labelport::darwin_sim
