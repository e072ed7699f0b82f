#include "video_probe.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "video_decoder.h"

extern "C" {
#include <libavutil/frame.h>
}

namespace labelport::darwin_sim {
namespace {

absl::Status NotAVideo(std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not a decodable video: ", std::string(why)));
}

}  // namespace

absl::StatusOr<VideoInfo> ProbeVideo(std::string_view bytes) {
  absl::StatusOr<std::unique_ptr<VideoDecoder>> opened = VideoDecoder::Open(bytes);
  if (!opened.ok()) return opened.status();
  VideoDecoder& decoder = **opened;
  VideoInfo info;
  int64_t packets = 0;
  // Count every packet (= frame) of the stream; decode until one frame comes out.
  while (decoder.ReadPacket()) {
    ++packets;
    if (info.width > 0 || !decoder.SendPacket()) continue;
    if (const AVFrame* frame = decoder.ReceiveFrame()) {
      info.width = frame->width;
      info.height = frame->height;
    }
  }
  if (packets == 0) return NotAVideo("the video stream has no frames");
  if (info.width <= 0 && decoder.SendPacket()) {  // Drain: frames the decoder held back.
    if (const AVFrame* frame = decoder.ReceiveFrame()) {
      info.width = frame->width;
      info.height = frame->height;
    }
  }
  if (info.width <= 0 || info.height <= 0) {
    return NotAVideo(absl::StrCat("no frame of the ", decoder.codec(), " stream decodes"));
  }
  info.container = decoder.container();
  info.codec = decoder.codec();
  info.fps = decoder.fps();
  info.frame_count = packets;
  if (info.fps <= 0) return NotAVideo("the stream has no frame rate");
  return info;
}

SampledVideo SampleVideo(const VideoInfo& info, double requested_fps) {
  if (requested_fps <= 0 || requested_fps >= info.fps) return {info.fps, info.frame_count};
  const double duration = static_cast<double>(info.frame_count) / info.fps;
  const auto frames = static_cast<int64_t>(std::ceil(duration * requested_fps - 1e-9));
  return {requested_fps, std::max<int64_t>(1, frames)};
}

}  // namespace labelport::darwin_sim
