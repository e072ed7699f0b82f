// RunCreation: one CreateRun call, whose samples arrive in batches and are
// never held all at once.
//
// Each batch is validated as it arrives and then spooled to the store (a
// pending run, RunStore::BeginRunSpool). The first batch brings the checks of
// the header in FiftyOne's order (collection, config, media type, schema,
// key) before anything is stored; every batch is checked for its media, its
// labels against the schema and the bounds of service/core/limits.h; sample
// and label ids are kept unique in the run by the store's constraints, and
// one media type for all samples by this object. Finish checks what needs all
// the labels (inferred classes and attributes) and makes the run visible and
// claimable in one step; it is idempotent on header.request_id (a replayed
// request id spools nothing and returns the recorded run).
//
// A creation that fails, is aborted, or is destroyed before Finish succeeded
// leaves nothing in the store (a crashed process's spools are removed by
// RunRegistry::DiscardStaleSpools).
//
// Memory: the batch being added, plus bounded schema observations
// (LabelSchemaBuilder): flat in the number of samples.
//
// Thread-compatible: calls must not overlap (a call's steps run one after
// the other). Methods block on the store; run them off gRPC threads.
#ifndef LABELPORT_SERVICE_CORE_RUN_CREATION_H_
#define LABELPORT_SERVICE_CORE_RUN_CREATION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/backend/backend_capabilities.h"
#include "service/core/label_schema_builder.h"
#include "service/core/run_quota.h"
#include "service/store/run_store.h"

namespace labelport::core {

class RunCreation {
 public:
  struct Options {
    // Returns a random hex string of the given length (generated slugs).
    std::function<std::string(int hex_digits)> hex;
    // Called once the run is created (ready for upload work).
    std::function<void()> on_work;
    // The spool's owner (this replica's worker id) and how long it lives
    // without a new batch.
    std::string spool_owner;
    absl::Duration spool_ttl = absl::Minutes(15);
    // The tenant's media roots (normalised): server paths outside them are
    // refused with every batch (ValidateSampleMediaBatch). nullopt: not
    // checked here (the upload still is).
    std::optional<std::vector<std::string>> media_roots;
    // The tenant's runs-in-flight quota, checked once the first batch is
    // valid and the request is not a replay; null: none. Must outlive the
    // creation.
    const RunQuota* quota = nullptr;
    // What the run's backend supports (BackendProvider::Capabilities()):
    // header.backend must be empty or its name, which the run records; the
    // schema is checked against its label and attribute types.
    backend::BackendCapabilities backend;
  };

  // `store` must outlive the creation (use RunRegistry::BeginCreateRun).
  RunCreation(store::RunStore* store, std::string tenant, labelport::v1::CreateRunHeader header,
              Options options);
  // Aborts unless Finish succeeded.
  ~RunCreation();
  RunCreation(const RunCreation&) = delete;
  RunCreation& operator=(const RunCreation&) = delete;

  // Validates `batch` (the next samples of the run, in order) and spools it.
  // Errors: INVALID_ARGUMENT naming "samples[i]..." (positions in the run)
  // or the header field and the rule; ALREADY_EXISTS for a taken key;
  // ABORTED when the spool expired because the stream stalled. After an
  // error the creation is aborted and every later call fails.
  absl::Status AddBatch(std::vector<labelport::v1::Sample> batch);

  // Validates what needs every label and makes the run live (or returns the
  // run of a replayed request id, created=false). After an error the
  // creation is aborted.
  absl::StatusOr<labelport::v1::CreateRunResponse> Finish();

  // Discards whatever was spooled (a cancelled or failed call). Idempotent;
  // a failure to discard is logged (the expiry sweep removes it later).
  void Abort();

  // Samples added so far.
  int64_t samples() const { return samples_; }

 private:
  absl::Status Add(std::vector<labelport::v1::Sample>& batch);
  absl::Status Start(std::vector<labelport::v1::Sample>& batch);
  absl::StatusOr<labelport::v1::CreateRunResponse> Commit();
  const std::vector<std::string>* MediaRoots() const;

  enum class State { kOpen, kFinished, kFailed };

  store::RunStore* const store_;
  const std::string tenant_;
  const labelport::v1::CreateRunHeader header_;
  const Options options_;
  State state_ = State::kOpen;
  // Set by the first batch.
  bool started_ = false;
  std::string dataset_;
  labelport::v1::DarwinOptions darwin_;
  labelport::v1::MediaType media_type_ = labelport::v1::MEDIA_TYPE_UNSPECIFIED;
  std::optional<LabelSchemaBuilder> schema_;
  // The pending run (empty once committed or discarded), or the replayed run.
  std::string spool_id_;
  std::optional<store::CreateRunResult> replay_;
  int64_t samples_ = 0;
  int64_t labels_ = 0;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_CREATION_H_
