// SqliteRunStore: the RunStore on one SQLite file (the default deployment).
//
// The file is opened in WAL mode with foreign keys on and synchronous=NORMAL
// (a committed run survives a process crash; a power loss may drop the last
// transactions but never corrupts the file). The schema is brought up to date
// on open (see sqlite_migrations.h).
//
// Thread-safety: all methods may be called concurrently. Writes (and the
// reads of the upload job) share one connection guarded by a mutex, so they
// are serialised within a process; several processes on one file wait for
// each other up to `busy_timeout`. GetRun, GetRunByUid and ListRuns use a
// pool of `read_connections` read connections instead (WAL: they wait
// neither for the writer nor for each other) and decode a run's record only
// when its revision changed (RunRecordCache), so they stay fast under
// writes; ReadsAreLocal() is true then. An in-memory database has no pool.
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

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/run_record_cache.h"
#include "service/store/run_store.h"
#include "service/store/sqlite_read_connections.h"

namespace labelport::store {

class SqliteRunStore : public RunStore {
 public:
  struct Options {
    // Required: the database file, created when missing. ":memory:" gives a
    // private in-memory database (tests).
    std::string path;
    // How long a statement waits for another process's lock before failing
    // with UNAVAILABLE.
    absl::Duration busy_timeout = absl::Seconds(5);
    // Connections of the read pool (0: reads use the write connection).
    // Ignored for ":memory:".
    int read_connections = 4;
    // Runs whose decoded record is kept (0: every read parses the record).
    size_t record_cache_capacity = 4096;
  };

  // Opens (or creates) the database and applies pending migrations.
  // INVALID_ARGUMENT for an empty path or a negative timeout; UNAVAILABLE
  // when the file cannot be opened; FAILED_PRECONDITION when the file's
  // schema is newer than this build knows.
  static absl::StatusOr<std::unique_ptr<SqliteRunStore>> Create(const Options& options);

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
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> LoadSampleProgress(
      const std::string& run_id) override;
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
  bool ReadsAreLocal() const override { return readers_ != nullptr; }

 private:
  SqliteRunStore(sqlite3* db, std::unique_ptr<SqliteReadConnections> readers,
                 size_t record_cache_capacity)
      : db_(db),
        readers_(std::move(readers)),
        records_(record_cache_capacity > 0 ? std::make_unique<RunRecordCache>(record_cache_capacity)
                                           : nullptr) {}

  std::string NewRunId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
  // Draws run ids.
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  // Null for an in-memory database.
  const std::unique_ptr<SqliteReadConnections> readers_;
  // Null when disabled.
  const std::unique_ptr<RunRecordCache> records_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_RUN_STORE_H_
