// PostgresRunStore: the RunStore part of a PostgresDatabase (see
// postgres_database.h for the URL, the pool and the schema), shared by any
// number of labelport replicas.
//
// Across processes: a key is unique among live runs by a unique constraint;
// record updates are serialised by row locks; a lease is taken by one
// conditional UPDATE (the row lock makes "check free, then take" atomic),
// and expiry is judged by the database clock, so replicas need no
// synchronised clocks. ListClaimableRuns skips rows another transaction has
// locked at that instant (FOR NO KEY UPDATE SKIP LOCKED): a run some replica
// is claiming right now is not offered again. Times (`create_time`,
// `update_time`) come from the database clock too, in microseconds.
//
// Change notifications: UpdateRun, RenameRun and DeleteRun send
// `NOTIFY labelport_run_changes, '<run id>'` in their transaction, so every
// replica's PostgresRunChangeListener learns of a change once it commits.
//
// Thread-safety: all methods may be called concurrently; each call takes a
// connection from the database's pool.
//
// Errors: beyond the RunStore contract, UNAVAILABLE when the server cannot
// be reached (a call that found its pooled connection dead is retried once
// on a new one), INVALID_ARGUMENT for values PostgreSQL cannot store (text
// with NUL bytes or invalid UTF-8), and the extras of SqliteRunStore:
// INVALID_ARGUMENT (field "samples", reason "DUPLICATE_SAMPLE_ID") when
// sample ids repeat and for bad page arguments. No message ever contains the
// password of the URL.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_RUN_STORE_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_RUN_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_connection_pool.h"
#include "service/store/postgres_database.h"
#include "service/store/run_store.h"

namespace labelport::store {

class PostgresRunStore : public RunStore {
 public:
  using Options = PostgresDatabase::Options;

  // The run store of a database of its own, for callers that need nothing
  // else of it (tests, tools): PostgresDatabase::Create's errors.
  static absl::StatusOr<std::unique_ptr<PostgresRunStore>> Create(const Options& options);

  explicit PostgresRunStore(std::shared_ptr<PostgresConnectionPool> pool);

  ~PostgresRunStore() override;
  PostgresRunStore(const PostgresRunStore&) = delete;
  PostgresRunStore& operator=(const PostgresRunStore&) = delete;

  absl::StatusOr<CreateRunResult> CreateRun(const NewRun& run) override;
  absl::StatusOr<labelport::v1::AnnotationRun> GetRun(const RunKey& key) override;
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

 private:
  const std::shared_ptr<PostgresConnectionPool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_RUN_STORE_H_
