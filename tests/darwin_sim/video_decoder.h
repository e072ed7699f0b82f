// An FFmpeg demuxer and decoder over a video file held in memory: the first
// video stream of the container, read packet by packet and decoded frame by
// frame. Shared by the upload-time probe (video_probe.h) and the frame
// images of video slots (video_frames.h). One instance per thread.
#ifndef LABELPORT_TESTS_DARWIN_SIM_VIDEO_DECODER_H_
#define LABELPORT_TESTS_DARWIN_SIM_VIDEO_DECODER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct AVFrame;

namespace labelport::darwin_sim {

class VideoDecoder {
 public:
  // Opens the container in `bytes` (which must outlive the decoder) and the
  // decoder of its best video stream. Errors: InvalidArgument starting "not a
  // decodable video: " when there is no recognised container, no video
  // stream, only a still image or attached picture, or no usable decoder.
  static absl::StatusOr<std::unique_ptr<VideoDecoder>> Open(std::string_view bytes);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  const std::string& container() const;  // FFmpeg demuxer name.
  const std::string& codec() const;      // FFmpeg decoder name.
  // The stream's average frame rate, else its base rate; 0 when unknown.
  double fps() const;

  // Reads the next packet of the video stream; false at the end of the file.
  bool ReadPacket();
  // Sends the packet just read to the decoder; after the end of the file,
  // drains it instead. False when the decoder rejects the packet.
  bool SendPacket();
  // The next decoded frame (valid until the next call), or nullptr when the
  // decoder needs more packets or is drained.
  const AVFrame* ReceiveFrame();

 private:
  struct State;
  explicit VideoDecoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_VIDEO_DECODER_H_
