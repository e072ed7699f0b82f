// Fuzzes CreateRun's validation with requests decoded from the fuzzed bytes
// (callers are untrusted): the first two bytes give the length of a
// serialized CreateRunHeader, the rest is a serialized SampleBatch. The
// registry validates everything and stores the run in an in-memory SQLite
// store, or refuses it with INVALID_ARGUMENT / RESOURCE_EXHAUSTED style
// errors; it never crashes, and an error message quotes at most a bounded
// part of what the caller sent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/backend/backend_provider.h"
#include "service/backend/darwin/darwin_capabilities.h"
#include "service/core/run_registry.h"
#include "service/store/sqlite_run_store.h"

namespace {
// Errors quote short prefixes of offending values, however long they are.
constexpr size_t kMaxMessageChars = 2048;
// Runs kept in the in-memory store before it is replaced (bounded memory).
constexpr int kRunsPerStore = 1000;

// CreateRun checks runs against the V7 backend's capabilities, as the server
// does; no run is uploaded.
class DarwinCapabilities : public labelport::backend::BackendProvider {
 public:
  absl::StatusOr<std::shared_ptr<labelport::backend::AnnotationBackend>> BackendFor(
      const std::string& /*tenant*/) override {
    return absl::FailedPreconditionError("the fuzzer uploads nothing");
  }
  const labelport::backend::BackendCapabilities& Capabilities() const override {
    return labelport::backend::darwin::DarwinCapabilities();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t header_size = std::min<size_t>(size - 2, (size_t{data[0]} << 8) | data[1]);
  labelport::v1::CreateRunHeader header;
  labelport::v1::SampleBatch batch;
  if (!header.ParseFromArray(data + 2, static_cast<int>(header_size))) return 0;
  if (!batch.ParseFromArray(data + 2 + header_size, static_cast<int>(size - 2 - header_size)))
    return 0;
  static std::unique_ptr<labelport::store::SqliteRunStore> store;
  static int inputs = 0;
  if (store == nullptr || ++inputs % kRunsPerStore == 0) {
    auto created = labelport::store::SqliteRunStore::Create({.path = ":memory:"});
    if (!created.ok()) std::abort();
    store = *std::move(created);
  }
  static const DarwinCapabilities backends;
  labelport::core::RunRegistry registry(store.get(), &backends, [](int digits) {
    return std::string(static_cast<size_t>(digits), 'a');
  });
  std::vector<labelport::v1::Sample> samples(batch.samples().begin(), batch.samples().end());
  auto created = registry.CreateRun("fuzz", header, std::move(samples));
  if (!created.ok()) {
    if (created.status().ok() || created.status().message().size() > kMaxMessageChars) std::abort();
    return 0;
  }
  // A stored run reads back.
  if (!store->GetRunByUid(created->run().uid()).ok()) std::abort();
  return 0;
}
