#include "service/store/notifying_run_store.h"

namespace labelport::store {

using ::labelport::internal::v1::AnnotationLink;
using ::labelport::internal::v1::SampleProgress;
using ::labelport::v1::AnnotationRun;

absl::StatusOr<CreateRunResult> NotifyingRunStore::CreateRun(const NewRun& run) {
  return inner_->CreateRun(run);
}

absl::StatusOr<AnnotationRun> NotifyingRunStore::GetRun(const RunKey& key) {
  return inner_->GetRun(key);
}

absl::StatusOr<ListRunsPage> NotifyingRunStore::ListRuns(const ListRunsQuery& query) {
  return inner_->ListRuns(query);
}

absl::StatusOr<AnnotationRun> NotifyingRunStore::RenameRun(const RunKey& key,
                                                           const std::string& new_anno_key) {
  absl::StatusOr<AnnotationRun> renamed = inner_->RenameRun(key, new_anno_key);
  if (renamed.ok()) notifier_->Notify(renamed->uid());
  return renamed;
}

absl::Status NotifyingRunStore::DeleteRun(const RunKey& key) {
  // The port names the run by key; its watchers know it by uid. Should the
  // key be deleted and re-created between the two calls, the deleted run's
  // watchers learn it at their next safety re-read.
  absl::StatusOr<AnnotationRun> doomed = inner_->GetRun(key);
  absl::Status deleted = inner_->DeleteRun(key);
  if (deleted.ok() && doomed.ok()) notifier_->Notify(doomed->uid());
  return deleted;
}

absl::StatusOr<SampleIdPage> NotifyingRunStore::ListRunSamples(const RunKey& key,
                                                               int64_t start_position,
                                                               int page_size) {
  return inner_->ListRunSamples(key, start_position, page_size);
}

absl::StatusOr<AnnotationRun> NotifyingRunStore::GetRunByUid(const std::string& run_id) {
  return inner_->GetRunByUid(run_id);
}

absl::StatusOr<AnnotationRun> NotifyingRunStore::UpdateRun(const std::string& run_id,
                                                           const RunMutator& mutate) {
  absl::StatusOr<AnnotationRun> updated = inner_->UpdateRun(run_id, mutate);
  if (updated.ok()) notifier_->Notify(run_id);
  return updated;
}

absl::Status NotifyingRunStore::StageSamples(
    const std::string& run_id, const std::string& stage_id,
    const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) {
  return inner_->StageSamples(run_id, stage_id, samples);
}

absl::Status NotifyingRunStore::CommitStagedSamples(const std::string& run_id,
                                                    const std::string& stage_id) {
  return inner_->CommitStagedSamples(run_id, stage_id);
}

absl::Status NotifyingRunStore::DiscardStagedSamples(const std::string& run_id,
                                                     const std::string& stage_id) {
  return inner_->DiscardStagedSamples(run_id, stage_id);
}

absl::StatusOr<std::vector<labelport::v1::Sample>> NotifyingRunStore::LoadSamples(
    const std::string& run_id, int64_t start_position, int max_count) {
  return inner_->LoadSamples(run_id, start_position, max_count);
}

absl::Status NotifyingRunStore::SaveSampleProgress(const std::string& run_id,
                                                   const std::vector<SampleProgress>& progress) {
  return inner_->SaveSampleProgress(run_id, progress);
}

absl::StatusOr<std::vector<SampleProgress>> NotifyingRunStore::LoadSampleProgressRange(
    const std::string& run_id, int64_t start_position, int max_count) {
  return inner_->LoadSampleProgressRange(run_id, start_position, max_count);
}

absl::Status NotifyingRunStore::SaveAnnotationLinks(const std::string& run_id,
                                                    const std::vector<AnnotationLink>& links) {
  return inner_->SaveAnnotationLinks(run_id, links);
}

absl::StatusOr<std::vector<AnnotationLink>> NotifyingRunStore::LoadAnnotationLinksForItem(
    const std::string& run_id, const std::string& item_id) {
  return inner_->LoadAnnotationLinksForItem(run_id, item_id);
}

absl::StatusOr<std::vector<AnnotationLink>> NotifyingRunStore::LoadAnnotationLinks(
    const std::string& run_id) {
  return inner_->LoadAnnotationLinks(run_id);
}

absl::Status NotifyingRunStore::SaveBackendState(const std::string& run_id,
                                                 const google::protobuf::Any& state) {
  return inner_->SaveBackendState(run_id, state);
}

absl::StatusOr<google::protobuf::Any> NotifyingRunStore::LoadBackendState(
    const std::string& run_id) {
  return inner_->LoadBackendState(run_id);
}

absl::StatusOr<bool> NotifyingRunStore::AcquireLease(const std::string& run_id,
                                                     const std::string& owner, absl::Duration ttl) {
  return inner_->AcquireLease(run_id, owner, ttl);
}

absl::Status NotifyingRunStore::ReleaseLease(const std::string& run_id, const std::string& owner) {
  return inner_->ReleaseLease(run_id, owner);
}

absl::StatusOr<std::vector<ClaimableRun>> NotifyingRunStore::ListClaimableRuns(
    int max_count, const std::string& owner) {
  return inner_->ListClaimableRuns(max_count, owner);
}

absl::StatusOr<RunSpool> NotifyingRunStore::BeginRunSpool(const RunKey& key,
                                                          const std::string& request_id,
                                                          const std::string& owner,
                                                          absl::Duration ttl) {
  return inner_->BeginRunSpool(key, request_id, owner, ttl);
}

absl::StatusOr<std::optional<SpoolConflict>> NotifyingRunStore::AppendToRunSpool(
    const std::string& spool_id, int64_t first_position,
    const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
    absl::Duration ttl) {
  return inner_->AppendToRunSpool(spool_id, first_position, samples, label_ids, ttl);
}

absl::StatusOr<CreateRunResult> NotifyingRunStore::CommitRunSpool(const std::string& spool_id,
                                                                  const NewRun& run) {
  return inner_->CommitRunSpool(spool_id, run);
}

absl::Status NotifyingRunStore::DiscardRunSpool(const std::string& spool_id) {
  return inner_->DiscardRunSpool(spool_id);
}

absl::StatusOr<int64_t> NotifyingRunStore::DiscardRunSpoolsOf(const std::string& owner) {
  return inner_->DiscardRunSpoolsOf(owner);
}

absl::StatusOr<int64_t> NotifyingRunStore::DiscardExpiredRunSpools() {
  return inner_->DiscardExpiredRunSpools();
}

}  // namespace labelport::store
