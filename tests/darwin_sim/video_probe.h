// Reads the facts V7 reports for a processed video (frame count, frame rate,
// pixel size) from the uploaded bytes, with the FFmpeg libraries.
//
// darwin-sim's "processing" step runs this once per uploaded video slot
// (darwin-api.md §10.4). The container is demuxed completely (cheap: no
// decoding) to count the video packets, and the first frame is decoded to
// prove the stream is decodable. Thread-safe: every call has its own FFmpeg
// contexts.
#ifndef LABELPORT_TESTS_DARWIN_SIM_VIDEO_PROBE_H_
#define LABELPORT_TESTS_DARWIN_SIM_VIDEO_PROBE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace labelport::darwin_sim {

struct VideoInfo {
  std::string container;  // FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
  std::string codec;      // FFmpeg codec name, e.g. "h264".
  int width = 0;
  int height = 0;
  double fps = 0;           // Native frame rate (average, else the stream's base rate).
  int64_t frame_count = 0;  // Video packets in the stream (one per frame).
};

// Returns the facts of the first video stream in `bytes`.
// Errors: InvalidArgument when the bytes are not a container FFmpeg
// recognises, hold no video stream (or only a still image), have no decoder,
// or when no frame of the stream decodes; each message names the rule broken.
absl::StatusOr<VideoInfo> ProbeVideo(std::string_view bytes);

// The frame count and rate V7 reports when a video is sampled at
// `requested_fps` (0 or anything >= the native rate means native): frames are
// taken every 1/requested_fps seconds over the native duration.
struct SampledVideo {
  double fps = 0;
  int64_t frame_count = 0;
};
SampledVideo SampleVideo(const VideoInfo& info, double requested_fps);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_VIDEO_PROBE_H_
