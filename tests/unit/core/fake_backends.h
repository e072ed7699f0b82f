// Test doubles of the backend port (service/backend/annotation_backend.h)
// shared by the core unit tests that run jobs: a backend that only uploads,
// a provider that hands one backend to every tenant, an in-memory store and
// a pending run to create in it.
#ifndef LABELPORT_TESTS_UNIT_CORE_FAKE_BACKENDS_H_
#define LABELPORT_TESTS_UNIT_CORE_FAKE_BACKENDS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/backend_capabilities.h"
#include "service/backend/backend_provider.h"
#include "service/store/run_store.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::core::testing {

// What these backends state: a name and nothing supported (the jobs these
// tests run never validate a schema).
inline const backend::BackendCapabilities& TestCapabilities() {
  static const auto* const kCapabilities = new backend::BackendCapabilities{
      .name = "test", .label_types = {}, .attribute_types = {}, .attribute_types_with_values = {}};
  return *kCapabilities;
}

// A backend whose test defines UploadRun only; LoadRun, GetStatus and
// Cleanup answer UNIMPLEMENTED.
class UploadOnlyBackend : public backend::AnnotationBackend {
 public:
  const backend::BackendCapabilities& Capabilities() const override { return TestCapabilities(); }
  boost::asio::awaitable<absl::Status> LoadRun(backend::UploadJournal&,
                                               backend::LoadSink&) override {
    co_return absl::UnimplementedError("not in this test");
  }
  boost::asio::awaitable<absl::StatusOr<labelport::v1::GetRunStatusResponse>> GetStatus(
      backend::UploadJournal&) override {
    co_return absl::UnimplementedError("not in this test");
  }
  boost::asio::awaitable<absl::StatusOr<labelport::v1::CleanupRunResponse>> Cleanup(
      backend::UploadJournal&) override {
    co_return absl::UnimplementedError("not in this test");
  }
};

// Hands out `backend` (not owned) for every tenant.
class AnyTenantProvider : public backend::BackendProvider {
 public:
  explicit AnyTenantProvider(backend::AnnotationBackend* backend) : backend_(backend) {}
  const backend::BackendCapabilities& Capabilities() const override { return TestCapabilities(); }
  absl::StatusOr<std::shared_ptr<backend::AnnotationBackend>> BackendFor(
      const std::string&) override {
    return std::shared_ptr<backend::AnnotationBackend>(std::shared_ptr<void>(), backend_);
  }

 private:
  backend::AnnotationBackend* backend_;
};

// An in-memory SQLite run store; null (and the test fails) when it cannot
// be opened.
inline std::unique_ptr<store::SqliteRunStore> InMemoryStore() {
  auto sqlite = store::SqliteRunStore::Create({.path = ":memory:"});
  EXPECT_TRUE(sqlite.ok()) << sqlite.status();
  return sqlite.ok() ? *std::move(sqlite) : nullptr;
}

// A run of `tenant` in dataset "dataset" with anno key `anno_key`, in
// `state`, with one sample per id of `sample_ids`.
inline store::NewRun NewRunOf(const std::string& tenant, const std::string& anno_key,
                              const std::vector<std::string>& sample_ids,
                              labelport::v1::RunState state = labelport::v1::RUN_STATE_PENDING) {
  store::NewRun run;
  run.key = {tenant, "dataset", anno_key};
  run.record.set_state(state);
  run.record.mutable_progress()->set_samples_total(static_cast<int64_t>(sample_ids.size()));
  for (const std::string& id : sample_ids) run.samples.emplace_back().set_id(id);
  return run;
}

}  // namespace labelport::core::testing

#endif  // LABELPORT_TESTS_UNIT_CORE_FAKE_BACKENDS_H_
