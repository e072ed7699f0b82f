// Fuzzes the export zip reader (V7 export archives are untrusted): any file
// is read entry by entry or refused with a status; every JSON entry handed
// out is then decoded as Darwin JSON. Never crashes, never reads past
// the per-entry bound.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "service/backend/darwin/darwin_json.h"
#include "service/backend/darwin/export_archive.h"

namespace {
constexpr int64_t kMaxEntryBytes = 1 << 20;  // small, so the fuzzer can probe the bound
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/labelport-export-fuzz-" +
           std::to_string(::getpid()) + ".zip";
  }();
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, out) != size) std::abort();
  std::fclose(out);
  (void)labelport::backend::darwin::ForEachExportEntry(
      path,
      [](absl::string_view name, absl::string_view contents) -> absl::Status {
        if (static_cast<int64_t>(contents.size()) > kMaxEntryBytes) std::abort();
        (void)labelport::backend::darwin::DecodeDarwinJson(contents, name);
        return absl::OkStatus();
      },
      kMaxEntryBytes);
  std::remove(path.c_str());
  return 0;
}
