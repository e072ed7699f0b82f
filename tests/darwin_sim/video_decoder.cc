#include "video_decoder.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ffmpeg_ptrs.h"

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

}  // namespace

struct VideoDecoder::State {
  MemoryReader reader;
  // Declaration order is destruction order reversed: the format context
  // (which reads through `io`) goes before `io`.
  AvioPtr io;
  FormatPtr format;
  CodecPtr codec;
  PacketPtr packet;
  FramePtr frame;
  int stream_index = -1;
  bool at_end = false;
  std::string container;
  std::string codec_name;
};

VideoDecoder::VideoDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
VideoDecoder::~VideoDecoder() = default;

absl::StatusOr<std::unique_ptr<VideoDecoder>> VideoDecoder::Open(std::string_view bytes) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  if (bytes.empty()) return NotAVideo("the file is empty");

  auto s = std::make_unique<State>();
  s->reader.bytes = bytes;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return absl::ResourceExhaustedError("out of memory for the video reader");
  s->io.reset(avio_alloc_context(buffer, kIoBufferSize, 0, &s->reader, &MemoryReader::Read, nullptr,
                                 &MemoryReader::Seek));
  if (s->io == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("out of memory for the video reader");
  }
  AVFormatContext* raw_format = avformat_alloc_context();
  if (raw_format == nullptr) return absl::ResourceExhaustedError("out of memory for the demuxer");
  raw_format->pb = s->io.get();
  raw_format->flags |= AVFMT_FLAG_CUSTOM_IO;
  // On failure avformat_open_input frees the context itself.
  if (int rc = avformat_open_input(&raw_format, nullptr, nullptr, nullptr); rc < 0) {
    return NotAVideo(absl::StrCat("no container format recognised (", AvError(rc), ")"));
  }
  s->format.reset(raw_format);
  s->container = s->format->iformat->name;
  if (IsImageDemuxer(s->container)) {
    return NotAVideo(absl::StrCat("the file is a still image (", s->container, ")"));
  }
  if (int rc = avformat_find_stream_info(s->format.get(), nullptr); rc < 0) {
    return NotAVideo(absl::StrCat("stream information unreadable (", AvError(rc), ")"));
  }
  s->stream_index = av_find_best_stream(s->format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (s->stream_index < 0) {
    return NotAVideo(absl::StrCat("no video stream in the ", s->container, " file"));
  }
  AVStream* stream = s->format->streams[s->stream_index];
  if ((stream->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) {
    return NotAVideo("the only video stream is an attached picture");
  }
  const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
  if (decoder == nullptr) {
    return NotAVideo(
        absl::StrCat("no decoder for codec ", avcodec_get_name(stream->codecpar->codec_id)));
  }
  s->codec_name = decoder->name;
  s->codec.reset(avcodec_alloc_context3(decoder));
  if (s->codec == nullptr) return absl::ResourceExhaustedError("out of memory for the decoder");
  if (avcodec_parameters_to_context(s->codec.get(), stream->codecpar) < 0) {
    return NotAVideo("codec parameters unusable");
  }
  s->codec->thread_count = 1;
  if (int rc = avcodec_open2(s->codec.get(), decoder, nullptr); rc < 0) {
    return NotAVideo(
        absl::StrCat("decoder ", decoder->name, " refused the stream (", AvError(rc), ")"));
  }
  s->packet.reset(av_packet_alloc());
  s->frame.reset(av_frame_alloc());
  if (s->packet == nullptr || s->frame == nullptr) {
    return absl::ResourceExhaustedError("out of memory for video frames");
  }
  return std::unique_ptr<VideoDecoder>(new VideoDecoder(std::move(s)));
}

const std::string& VideoDecoder::container() const { return state_->container; }
const std::string& VideoDecoder::codec() const { return state_->codec_name; }

double VideoDecoder::fps() const {
  const AVStream* stream = state_->format->streams[state_->stream_index];
  const double average = RateOf(stream->avg_frame_rate);
  return average > 0 ? average : RateOf(stream->r_frame_rate);
}

bool VideoDecoder::ReadPacket() {
  av_packet_unref(state_->packet.get());
  while (av_read_frame(state_->format.get(), state_->packet.get()) >= 0) {
    if (state_->packet->stream_index == state_->stream_index) return true;
    av_packet_unref(state_->packet.get());
  }
  state_->at_end = true;
  return false;
}

bool VideoDecoder::SendPacket() {
  return avcodec_send_packet(state_->codec.get(),
                             state_->at_end ? nullptr : state_->packet.get()) >= 0;
}

const AVFrame* VideoDecoder::ReceiveFrame() {
  if (avcodec_receive_frame(state_->codec.get(), state_->frame.get()) < 0) return nullptr;
  return state_->frame.get();
}

}  // namespace labelport::darwin_sim
