// SqliteRunStore: the RunStore part of a SqliteDatabase (see
// sqlite_database.h for the file, its connections and its schema).
//
// Thread-safety: all methods may be called concurrently. Writes (and the
// reads of the upload job) run as transactions on the database's one write
// connection, so they are serialised within a process; several processes on
// one file wait for each other up to `busy_timeout`. GetRun, GetRunByUid and
// ListRuns use the database's read connections instead (WAL: they wait
// neither for the writer nor for each other) and decode a run's record only
// when its revision changed (RunRecordCache), so they stay fast under
// writes; ReadsAreLocal() is true then. An in-memory database has no read
// connections.
//
// Beyond the RunStore contract: CreateRun returns INVALID_ARGUMENT (field
// "samples", reason "DUPLICATE_SAMPLE_ID") when sample ids repeat, and the
// paging methods return INVALID_ARGUMENT for a page_size below 1 or a
// negative start_position. The record's own `request_id` field is stored as
// given; the idempotency key is NewRun::request_id. Lease times come from
// this process's clock, so processes sharing a file need synchronised clocks.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_RUN_STORE_H_
#define LABELPORT_SERVICE_STORE_SQLITE_RUN_STORE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/store/run_record_cache.h"
#include "service/store/run_store.h"
#include "service/store/sqlite_database.h"
#include "service/store/sqlite_pool.h"

namespace labelport::store {

class SqliteRunStore : public RunStore {
 public:
  using Options = SqliteDatabase::Options;

  // The run store of a database of its own, for callers that need nothing
  // else of it (tests, tools): SqliteDatabase::Create's errors.
  static absl::StatusOr<std::unique_ptr<SqliteRunStore>> Create(const Options& options);

  // The run store on `pool`, keeping the decoded records of up to
  // `record_cache_capacity` runs (0: none).
  SqliteRunStore(std::shared_ptr<SqlitePool> pool, size_t record_cache_capacity);

  ~SqliteRunStore() override;
  SqliteRunStore(const SqliteRunStore&) = delete;
  SqliteRunStore& operator=(const SqliteRunStore&) = delete;

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
  bool ReadsAreLocal() const override { return pool_->has_read_connections(); }

 private:
  const std::shared_ptr<SqlitePool> pool_;
  // Null when disabled.
  const std::unique_ptr<RunRecordCache> records_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_RUN_STORE_H_
