#include "video_probe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

namespace labelport::darwin_sim {
namespace {

constexpr int kIoBufferSize = 32 * 1024;

// Read/seek callbacks of a custom AVIOContext over a byte buffer.
struct MemoryReader {
  std::string_view bytes;
  size_t pos = 0;

  static int Read(void* opaque, uint8_t* buf, int size) {
    auto* self = static_cast<MemoryReader*>(opaque);
    const size_t left = self->bytes.size() - self->pos;
    if (left == 0) return AVERROR_EOF;
    const size_t n = std::min(left, static_cast<size_t>(size));
    std::memcpy(buf, self->bytes.data() + self->pos, n);
    self->pos += n;
    return static_cast<int>(n);
  }

  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<MemoryReader*>(opaque);
    const int64_t size = static_cast<int64_t>(self->bytes.size());
    if ((whence & AVSEEK_SIZE) != 0) return size;
    int64_t target = offset;
    switch (whence & ~AVSEEK_FORCE) {
      case SEEK_SET:
        break;
      case SEEK_CUR:
        target += static_cast<int64_t>(self->pos);
        break;
      case SEEK_END:
        target += size;
        break;
      default:
        return AVERROR(EINVAL);
    }
    if (target < 0 || target > size) return AVERROR(EINVAL);
    self->pos = static_cast<size_t>(target);
    return target;
  }
};

struct AvioDeleter {
  void operator()(AVIOContext* io) const {
    if (io == nullptr) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct FormatDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

absl::Status NotAVideo(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("not a decodable video: ", why));
}

// Still-image demuxers (image2, png_pipe, ...) open images as one-frame
// streams; V7 does not process those as videos.
bool IsImageDemuxer(absl::string_view name) {
  return name == "image2" || absl::EndsWith(name, "_pipe") || name == "gif" || name == "webp";
}

double RateOf(AVRational r) { return r.num > 0 && r.den > 0 ? av_q2d(r) : 0; }

// Sends `packet` (nullptr flushes) and reports whether a frame came out.
bool DecodesAFrame(AVCodecContext* codec, const AVPacket* packet, AVFrame* frame) {
  if (avcodec_send_packet(codec, packet) < 0) return false;
  return avcodec_receive_frame(codec, frame) >= 0;
}

}  // namespace

absl::StatusOr<VideoInfo> ProbeVideo(std::string_view bytes) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  if (bytes.empty()) return NotAVideo("the file is empty");

  MemoryReader reader{bytes};
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return absl::ResourceExhaustedError("out of memory for the video reader");
  std::unique_ptr<AVIOContext, AvioDeleter> io(avio_alloc_context(
      buffer, kIoBufferSize, 0, &reader, &MemoryReader::Read, nullptr, &MemoryReader::Seek));
  if (io == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("out of memory for the video reader");
  }
  AVFormatContext* raw_format = avformat_alloc_context();
  if (raw_format == nullptr) return absl::ResourceExhaustedError("out of memory for the demuxer");
  raw_format->pb = io.get();
  raw_format->flags |= AVFMT_FLAG_CUSTOM_IO;
  // On failure avformat_open_input frees the context itself.
  if (int rc = avformat_open_input(&raw_format, nullptr, nullptr, nullptr); rc < 0) {
    return NotAVideo(absl::StrCat("no container format recognised (", AvError(rc), ")"));
  }
  std::unique_ptr<AVFormatContext, FormatDeleter> format(raw_format);
  const std::string container = format->iformat->name;
  if (IsImageDemuxer(container)) {
    return NotAVideo(absl::StrCat("the file is a still image (", container, ")"));
  }
  if (int rc = avformat_find_stream_info(format.get(), nullptr); rc < 0) {
    return NotAVideo(absl::StrCat("stream information unreadable (", AvError(rc), ")"));
  }
  const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return NotAVideo(absl::StrCat("no video stream in the ", container, " file"));
  AVStream* stream = format->streams[index];
  if ((stream->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) {
    return NotAVideo("the only video stream is an attached picture");
  }
  const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
  if (decoder == nullptr) {
    return NotAVideo(
        absl::StrCat("no decoder for codec ", avcodec_get_name(stream->codecpar->codec_id)));
  }
  std::unique_ptr<AVCodecContext, CodecDeleter> codec(avcodec_alloc_context3(decoder));
  if (codec == nullptr) return absl::ResourceExhaustedError("out of memory for the decoder");
  if (avcodec_parameters_to_context(codec.get(), stream->codecpar) < 0) {
    return NotAVideo("codec parameters unusable");
  }
  codec->thread_count = 1;
  if (int rc = avcodec_open2(codec.get(), decoder, nullptr); rc < 0) {
    return NotAVideo(
        absl::StrCat("decoder ", decoder->name, " refused the stream (", AvError(rc), ")"));
  }

  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  if (packet == nullptr || frame == nullptr) {
    return absl::ResourceExhaustedError("out of memory for video frames");
  }
  int64_t packets = 0;
  bool decoded = false;
  while (av_read_frame(format.get(), packet.get()) >= 0) {
    if (packet->stream_index == index) {
      ++packets;
      if (!decoded) decoded = DecodesAFrame(codec.get(), packet.get(), frame.get());
    }
    av_packet_unref(packet.get());
  }
  if (!decoded && packets > 0) decoded = DecodesAFrame(codec.get(), nullptr, frame.get());
  if (packets == 0) return NotAVideo("the video stream has no frames");
  if (!decoded)
    return NotAVideo(absl::StrCat("no frame of the ", decoder->name, " stream decodes"));

  VideoInfo info;
  info.container = container;
  info.codec = decoder->name;
  info.width = frame->width > 0 ? frame->width : stream->codecpar->width;
  info.height = frame->height > 0 ? frame->height : stream->codecpar->height;
  info.fps = RateOf(stream->avg_frame_rate);
  if (info.fps <= 0) info.fps = RateOf(stream->r_frame_rate);
  info.frame_count = packets;
  if (info.width <= 0 || info.height <= 0) {
    return NotAVideo(absl::StrCat("invalid frame size ", info.width, "x", info.height));
  }
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
