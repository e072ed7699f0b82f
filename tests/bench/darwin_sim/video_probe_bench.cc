// Time darwin-sim spends probing one uploaded video (video_probe.h) with the
// FFmpeg libraries: demux every packet and decode the first frame. Run by
// hand (see README.md); prints milliseconds per probe for a few generated
// clips. Needs `ffmpeg` on the PATH to make the clips.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "video_probe.h"

ABSL_FLAG(int, iterations, 20, "probes per clip");

namespace {

struct Clip {
  const char* name;
  const char* source;  // lavfi source and duration.
  const char* codec;
};

std::string Encode(const Clip& clip, const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / clip.name;
  const std::string cmd = absl::StrCat("ffmpeg -hide_banner -loglevel error -y -f lavfi -i ",
                                       clip.source, " ", clip.codec, " ", path.string());
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "ffmpeg failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("video_probe_bench_", ::getpid());
  std::filesystem::create_directories(dir);
  const Clip clips[] = {
      {"short.mp4", "testsrc=size=320x240:rate=10 -t 2", "-c:v libx264 -pix_fmt yuv420p"},
      {"vga_10s.mp4", "testsrc=size=640x480:rate=30 -t 10", "-c:v libx264 -pix_fmt yuv420p"},
      {"hd_10s.webm", "testsrc=size=1280x720:rate=25 -t 10", "-c:v libvpx -b:v 1M"},
  };
  std::printf("%-12s %10s %8s %10s %12s\n", "clip", "bytes", "frames", "size", "ms/probe");
  for (const Clip& clip : clips) {
    const std::string bytes = Encode(clip, dir);
    absl::StatusOr<labelport::darwin_sim::VideoInfo> info;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) info = labelport::darwin_sim::ProbeVideo(bytes);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        iterations;
    if (!info.ok()) {
      std::fprintf(stderr, "%s: %s\n", clip.name, std::string(info.status().message()).c_str());
      return 1;
    }
    std::printf("%-12s %10zu %8lld %10s %12.2f\n", clip.name, bytes.size(),
                static_cast<long long>(info->frame_count),
                absl::StrCat(info->width, "x", info->height).c_str(), ms);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
