// RunRegistry: the run-management use cases (create, get, list, rename,
// delete, list samples) over a RunStore. Transport-agnostic: requests and
// responses are labelport.v1 messages, errors are absl::Status with field and
// reason details (service/common/errors.h).
//
// Thread-safety: thread-safe if the store is. Methods block on the store, so
// callers run them off gRPC threads.
#ifndef LABELPORT_SERVICE_CORE_RUN_REGISTRY_H_
#define LABELPORT_SERVICE_CORE_RUN_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/backend/backend_provider.h"
#include "service/core/run_creation.h"
#include "service/core/run_quota.h"
#include "service/store/run_store.h"

namespace labelport::core {

// How CreateRun spools its samples (RunCreation): the spools' owner, this
// replica's worker id, and how long a spool lives without a new batch.
struct RunSpoolOptions {
  std::string owner = "labelport";
  absl::Duration ttl = absl::Minutes(15);
};

class RunRegistry {
 public:
  // Returns a fresh random hex string of `hex_digits` digits (for generated
  // dataset slugs). Injectable for tests.
  using HexGenerator = std::function<std::string(int hex_digits)>;

  // The media roots of a tenant (normalised; empty: none), against which
  // CreateRun checks server paths lexically.
  using MediaRootsLookup = std::function<std::vector<std::string>(const std::string& tenant)>;

  // `store` and `backends` must outlive the registry; CreateRun checks runs
  // against `backends->Capabilities()` (the backend named, the label and
  // attribute types of the schema). `on_work` (optional) is called after a
  // run becomes ready for upload work (created or resumed). Without
  // `media_roots`, CreateRun leaves server paths to the upload's check.
  // `quota` (optional, must outlive the registry) bounds each tenant's runs
  // in flight: CreateRun and ResumeRun answer RESOURCE_EXHAUSTED at the
  // limit (a retried CreateRun whose run exists is still answered with it).
  RunRegistry(store::RunStore* store, const backend::BackendProvider* backends,
              HexGenerator hex = nullptr, std::function<void()> on_work = nullptr,
              RunSpoolOptions spool = {}, MediaRootsLookup media_roots = nullptr,
              const RunQuota* quota = nullptr);

  // Starts a CreateRun call whose samples arrive in batches (see
  // run_creation.h): nothing is validated or stored before its first batch.
  std::unique_ptr<RunCreation> BeginCreateRun(const std::string& tenant,
                                              labelport::v1::CreateRunHeader header);

  // A whole CreateRun at once (batches of kMaxSamplesPerBatch): validates
  // everything (header, samples, schema, key) in FiftyOne's order before the
  // run is visible, then stores it in state PENDING. A server path outside
  // the tenant's media roots is PERMISSION_DENIED (MEDIA_PATH_NOT_ALLOWED,
  // see ValidateSampleMediaBatch). Idempotent on header.request_id.
  absl::StatusOr<labelport::v1::CreateRunResponse> CreateRun(
      const std::string& tenant, const labelport::v1::CreateRunHeader& header,
      std::vector<labelport::v1::Sample> samples);

  // Removes the run spools CreateRun calls left behind: with `at_start`, every
  // spool of this replica's owner (its previous process's calls are gone);
  // always, the expired ones of any replica. Failures are logged.
  void DiscardStaleSpools(bool at_start);

  absl::StatusOr<labelport::v1::GetRunResponse> GetRun(const std::string& tenant,
                                                       const labelport::v1::GetRunRequest& request);
  absl::StatusOr<labelport::v1::ListRunsResponse> ListRuns(
      const std::string& tenant, const labelport::v1::ListRunsRequest& request);
  absl::StatusOr<labelport::v1::RenameRunResponse> RenameRun(
      const std::string& tenant, const labelport::v1::RenameRunRequest& request);
  // Deletes the run's record (V7 is untouched). FAILED_PRECONDITION (field
  // "name", reason RUN_UPLOADING) while the run is UPLOADING: its job is
  // still writing to V7.
  absl::StatusOr<labelport::v1::DeleteRunResponse> DeleteRun(
      const std::string& tenant, const labelport::v1::DeleteRunRequest& request);
  absl::StatusOr<labelport::v1::ListRunSamplesResponse> ListRunSamples(
      const std::string& tenant, const labelport::v1::ListRunSamplesRequest& request);
  // Whether GetRun and ListRuns never wait (RunStore::ReadsAreLocal).
  bool ReadsAreLocal() const { return store_->ReadsAreLocal(); }
  // The run with this uid (for watchers that must survive renames).
  absl::StatusOr<labelport::v1::AnnotationRun> GetRunByUid(const std::string& uid);
  // FAILED (or ANNOTATING with failed samples) → PENDING: the upload job
  // retries what failed. FAILED_PRECONDITION in any other state.
  absl::StatusOr<labelport::v1::ResumeRunResponse> ResumeRun(
      const std::string& tenant, const labelport::v1::ResumeRunRequest& request);

 private:
  store::RunStore* store_;
  const backend::BackendProvider* backends_;
  HexGenerator hex_;
  std::function<void()> on_work_;
  RunSpoolOptions spool_;
  MediaRootsLookup media_roots_;
  const RunQuota* quota_;
};

// FiftyOne's slug normalisation (lower case, spaces to "-"), then a check that
// only letters, digits, "-", "_" and "." remain. INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> NormalizeDatasetSlug(absl::string_view slug, absl::string_view field);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_REGISTRY_H_
