// One frame of an uploaded video as a PNG image, for the `frame_urls` of
// video slots (`…/files/{slot}/sections/{n}`, darwin-api.md §7.2) and their
// thumbnails: what darwin-py's `pull(video_frames=True)` saves as
// `<video>/<n:07d>.png`.
//
// Frames are decoded from the start of the stream up to the one asked for
// (no seeking: simple and exact, linear in `frame`), then converted from
// 8-bit planar YUV (BT.601) or packed RGB to RGB24 and encoded with FFmpeg's
// PNG encoder. Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_VIDEO_FRAMES_H_
#define LABELPORT_TESTS_DARWIN_SIM_VIDEO_FRAMES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace labelport::darwin_sim {

// The PNG bytes of frame `frame` (0-based, in the slot's sampling at `fps`
// frames per second; `native_fps` is the stream's own rate) of the video in
// `bytes`. Errors: InvalidArgument when the bytes do not decode as a video or
// the frame's pixel format is not 8-bit YUV or RGB; OutOfRange when the video
// has fewer frames.
absl::StatusOr<std::string> VideoFramePng(std::string_view bytes, int64_t frame, double fps,
                                          double native_fps);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_VIDEO_FRAMES_H_
