// Fuzzes the Darwin JSON 2.0 decoder (bytes from V7 exports are untrusted):
// any input decodes or fails with a status, never crashes, and a decoded
// item always has the identity the load relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "service/backend/darwin/darwin_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto item = labelport::backend::darwin::DecodeDarwinJson(text, "fuzz.json");
  if (item.ok()) {
    if (item->item_id.empty() || item->slots.empty()) std::abort();
  } else if (item.status().message().find("fuzz.json") == absl::string_view::npos) {
    std::abort();  // every error names the file
  }
  return 0;
}
