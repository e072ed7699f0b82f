// NotifyingRunStore: a RunStore that announces every change of a run record
// made through it to a RunChangeNotifier, so that watchers in this process
// learn of it at once (DESIGN.md §11).
//
// Announced, after the change is committed: UpdateRun, RenameRun and
// DeleteRun (with the run's uid). CreateRun is not announced: nobody can
// watch a run before it exists. Job bookkeeping (progress, links, backend
// state, leases, staged samples) does not change the record and is not
// announced either. A failed call announces nothing.
//
// Everything else is forwarded unchanged, errors included. Changes made by
// other processes reach the notifier another way (PostgresRunChangeListener).
//
// Thread-safety: as the wrapped store. `inner` and `notifier` must outlive
// this object.
#ifndef LABELPORT_SERVICE_STORE_NOTIFYING_RUN_STORE_H_
#define LABELPORT_SERVICE_STORE_NOTIFYING_RUN_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/store/run_change_notifier.h"
#include "service/store/run_store.h"

namespace labelport::store {

class NotifyingRunStore final : public RunStore {
 public:
  NotifyingRunStore(RunStore* inner, RunChangeNotifier* notifier)
      : inner_(inner), notifier_(notifier) {}

  absl::StatusOr<CreateRunResult> CreateRun(const NewRun& run) override;
  // Spools: a pending run is invisible, so nothing is announced (as for
  // CreateRun, nobody can watch a run before it exists).
  absl::StatusOr<RunSpool> BeginRunSpool(const RunKey& key, const std::string& request_id,
                                         const std::string& owner, absl::Duration ttl) override;
  absl::StatusOr<std::optional<SpoolConflict>> AppendToRunSpool(
      const std::string& spool_id, int64_t first_position,
      const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
      absl::Duration ttl) override;
  absl::StatusOr<CreateRunResult> CommitRunSpool(const std::string& spool_id,
                                                 const NewRun& run) override;
  absl::Status DiscardRunSpool(const std::string& spool_id) override;
  absl::StatusOr<int64_t> DiscardRunSpoolsOf(const std::string& owner) override;
  absl::StatusOr<int64_t> DiscardExpiredRunSpools() override;
  absl::StatusOr<labelport::v1::AnnotationRun> GetRun(const RunKey& key) override;
  absl::StatusOr<ListRunsPage> ListRuns(const ListRunsQuery& query) override;
  absl::StatusOr<labelport::v1::AnnotationRun> RenameRun(const RunKey& key,
                                                         const std::string& new_anno_key) override;
  absl::Status DeleteRun(const RunKey& key) override;
  absl::StatusOr<SampleIdPage> ListRunSamples(const RunKey& key, int64_t start_position,
                                              int page_size) override;

  absl::StatusOr<labelport::v1::AnnotationRun> GetRunByUid(const std::string& run_id) override;
  absl::StatusOr<labelport::v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                                         const RunMutator& mutate) override;
  absl::Status StageSamples(
      const std::string& run_id, const std::string& stage_id,
      const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) override;
  absl::Status CommitStagedSamples(const std::string& run_id, const std::string& stage_id) override;
  absl::Status DiscardStagedSamples(const std::string& run_id,
                                    const std::string& stage_id) override;
  absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamples(const std::string& run_id,
                                                                 int64_t start_position,
                                                                 int max_count) override;
  absl::Status SaveSampleProgress(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::SampleProgress>& progress) override;
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> LoadSampleProgressRange(
      const std::string& run_id, int64_t start_position, int max_count) override;
  absl::Status SaveAnnotationLinks(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::AnnotationLink>& links) override;
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadAnnotationLinksForItem(
      const std::string& run_id, const std::string& item_id) override;
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadAnnotationLinks(
      const std::string& run_id) override;
  absl::Status SaveBackendState(const std::string& run_id,
                                const google::protobuf::Any& state) override;
  absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) override;
  absl::StatusOr<bool> AcquireLease(const std::string& run_id, const std::string& owner,
                                    absl::Duration ttl) override;
  absl::Status ReleaseLease(const std::string& run_id, const std::string& owner) override;
  absl::StatusOr<std::vector<ClaimableRun>> ListClaimableRuns(int max_count,
                                                              const std::string& owner) override;
  bool ReadsAreLocal() const override { return inner_->ReadsAreLocal(); }

 private:
  RunStore* const inner_;
  RunChangeNotifier* const notifier_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_NOTIFYING_RUN_STORE_H_
