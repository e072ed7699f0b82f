// ForwardingRunStore: a RunStore that forwards every call to another one;
// tests derive from it and override the calls they want to slow down or
// fail.
#ifndef LABELPORT_TESTS_UNIT_CORE_FORWARDING_RUN_STORE_H_
#define LABELPORT_TESTS_UNIT_CORE_FORWARDING_RUN_STORE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/store/run_store.h"

namespace labelport::core {

class ForwardingRunStore : public store::RunStore {
 public:
  // `inner` must outlive this store.
  explicit ForwardingRunStore(store::RunStore* inner) : inner_(inner) {}

  absl::StatusOr<labelport::v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                                         const RunMutator& mutate) override {
    return inner_->UpdateRun(run_id, mutate);
  }
  absl::StatusOr<store::CreateRunResult> CreateRun(const store::NewRun& run) override {
    return inner_->CreateRun(run);
  }
  absl::StatusOr<labelport::v1::AnnotationRun> GetRun(const store::RunKey& key) override {
    return inner_->GetRun(key);
  }
  absl::StatusOr<store::ListRunsPage> ListRuns(const store::ListRunsQuery& query) override {
    return inner_->ListRuns(query);
  }
  absl::StatusOr<labelport::v1::AnnotationRun> RenameRun(const store::RunKey& key,
                                                         const std::string& new_anno_key) override {
    return inner_->RenameRun(key, new_anno_key);
  }
  absl::Status DeleteRun(const store::RunKey& key) override { return inner_->DeleteRun(key); }
  absl::StatusOr<store::RunSpool> BeginRunSpool(const store::RunKey& key,
                                                const std::string& request_id,
                                                const std::string& owner,
                                                absl::Duration ttl) override {
    return inner_->BeginRunSpool(key, request_id, owner, ttl);
  }
  absl::StatusOr<std::optional<store::SpoolConflict>> AppendToRunSpool(
      const std::string& spool_id, int64_t first_position,
      const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
      absl::Duration ttl) override {
    return inner_->AppendToRunSpool(spool_id, first_position, samples, label_ids, ttl);
  }
  absl::StatusOr<store::CreateRunResult> CommitRunSpool(const std::string& spool_id,
                                                        const store::NewRun& run) override {
    return inner_->CommitRunSpool(spool_id, run);
  }
  absl::Status DiscardRunSpool(const std::string& spool_id) override {
    return inner_->DiscardRunSpool(spool_id);
  }
  absl::StatusOr<int64_t> DiscardRunSpoolsOf(const std::string& owner) override {
    return inner_->DiscardRunSpoolsOf(owner);
  }
  absl::StatusOr<int64_t> DiscardExpiredRunSpools() override {
    return inner_->DiscardExpiredRunSpools();
  }
  absl::StatusOr<store::SampleIdPage> ListRunSamples(const store::RunKey& key, int64_t start,
                                                     int page_size) override {
    return inner_->ListRunSamples(key, start, page_size);
  }
  absl::StatusOr<labelport::v1::AnnotationRun> GetRunByUid(const std::string& run_id) override {
    return inner_->GetRunByUid(run_id);
  }
  absl::Status StageSamples(
      const std::string& run_id, const std::string& stage_id,
      const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) override {
    return inner_->StageSamples(run_id, stage_id, samples);
  }
  absl::Status CommitStagedSamples(const std::string& run_id,
                                   const std::string& stage_id) override {
    return inner_->CommitStagedSamples(run_id, stage_id);
  }
  absl::Status DiscardStagedSamples(const std::string& run_id,
                                    const std::string& stage_id) override {
    return inner_->DiscardStagedSamples(run_id, stage_id);
  }
  absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamples(const std::string& run_id,
                                                                 int64_t start,
                                                                 int max_count) override {
    return inner_->LoadSamples(run_id, start, max_count);
  }
  absl::Status SaveSampleProgress(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::SampleProgress>& progress) override {
    return inner_->SaveSampleProgress(run_id, progress);
  }
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> LoadSampleProgressRange(
      const std::string& run_id, int64_t start_position, int max_count) override {
    return inner_->LoadSampleProgressRange(run_id, start_position, max_count);
  }
  absl::Status SaveAnnotationLinks(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::AnnotationLink>& links) override {
    return inner_->SaveAnnotationLinks(run_id, links);
  }
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadAnnotationLinksForItem(
      const std::string& run_id, const std::string& item_id) override {
    return inner_->LoadAnnotationLinksForItem(run_id, item_id);
  }
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadAnnotationLinks(
      const std::string& run_id) override {
    return inner_->LoadAnnotationLinks(run_id);
  }
  absl::Status SaveBackendState(const std::string& run_id,
                                const google::protobuf::Any& state) override {
    return inner_->SaveBackendState(run_id, state);
  }
  absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) override {
    return inner_->LoadBackendState(run_id);
  }
  absl::StatusOr<bool> AcquireLease(const std::string& run_id, const std::string& owner,
                                    absl::Duration ttl) override {
    return inner_->AcquireLease(run_id, owner, ttl);
  }
  absl::Status ReleaseLease(const std::string& run_id, const std::string& owner) override {
    return inner_->ReleaseLease(run_id, owner);
  }
  absl::StatusOr<std::vector<store::ClaimableRun>> ListClaimableRuns(
      int max_count, const std::string& owner) override {
    return inner_->ListClaimableRuns(max_count, owner);
  }

 protected:
  store::RunStore* const inner_;
};

}  // namespace labelport::core

#endif  // LABELPORT_TESTS_UNIT_CORE_FORWARDING_RUN_STORE_H_
