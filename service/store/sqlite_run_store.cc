#include "service/store/sqlite_run_store.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/store/run_records.h"
#include "service/store/sqlite_connection.h"
#include "service/store/sqlite_migrations.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {
namespace {

using ::labelport::internal::v1::AnnotationLink;
using ::labelport::internal::v1::SampleProgress;
using ::labelport::v1::AnnotationRun;
using run_records::CheckBackendState;
using run_records::CheckLeaseRequest;
using run_records::CheckPageSize;
using run_records::CheckStartPosition;
using run_records::ClearOwnedFields;
using run_records::FillOwnedFields;
using run_records::OwnedFields;
using run_records::ParseRecord;
using run_records::Prefixed;
using run_records::RenameKeyClash;
using run_records::RunKeyClash;
using run_records::RunNotFound;
using run_records::RunUidNotFound;
using run_records::SerializeRecord;

// Columns read by ReadRun, in this order.
constexpr absl::string_view kSelectRun =
    "SELECT run_id, dataset, anno_key, create_time_ns, update_time_ns, "
    "record, revision FROM runs ";

// ListClaimableRuns spells these states as literals so that its WHERE clause
// matches the partial index `runs_claimable` of migration 2.
static_assert(labelport::v1::RUN_STATE_PENDING == 1 && labelport::v1::RUN_STATE_UPLOADING == 2,
              "runs_claimable (migration 2) indexes states 1 and 2");

int64_t NowNanos() { return absl::ToUnixNanos(absl::Now()); }

OwnedFields ReadOwnedFields(const SqliteStatement& row) {
  OwnedFields owned;
  owned.run_id = row.ColumnText(0);
  owned.dataset = row.ColumnText(1);
  owned.anno_key = row.ColumnText(2);
  owned.create_time_ns = row.ColumnInt64(3);
  owned.update_time_ns = row.ColumnInt64(4);
  owned.revision = row.ColumnInt64(6);
  return owned;
}

// Reads the current row of a statement that starts with kSelectRun. With a
// `cache`, a run's record is parsed only when the cache lacks it at the
// row's revision (and then remembered): the whole record, store-owned
// fields included, is fixed for a (run id, revision), as every change of
// the blob, the key or update_time increments the revision.
absl::StatusOr<AnnotationRun> ReadRun(const SqliteStatement& row, absl::string_view operation,
                                      RunRecordCache* cache = nullptr) {
  if (cache != nullptr) {
    if (RunRecordCache::Record cached = cache->Find(row.ColumnTextView(0), row.ColumnInt64(6))) {
      return *cached;
    }
  }
  OwnedFields owned = ReadOwnedFields(row);
  LP_ASSIGN_OR_RETURN(AnnotationRun run,
                      ParseRecord<AnnotationRun>(row.ColumnBlob(5), operation,
                                                 absl::StrCat("record of run ", owned.run_id)));
  FillOwnedFields(owned, run);
  if (cache != nullptr) {
    cache->Put(owned.run_id, owned.revision, std::make_shared<const AnnotationRun>(run));
  }
  return run;
}

// The statements of the pooled reads (prepared once per read connection).
const std::string& SelectRunByKey() {
  static const std::string* const sql = new std::string(
      absl::StrCat(kSelectRun, "WHERE tenant = ?1 AND dataset = ?2 AND anno_key = ?3"));
  return *sql;
}

const std::string& SelectRunById() {
  static const std::string* const sql =
      new std::string(absl::StrCat(kSelectRun, "WHERE run_id = ?1"));
  return *sql;
}

// Empty filters are bound too, so one statement text serves every query
// and the (tenant, dataset, anno_key) index drives the scan.
const std::string& SelectRunPage() {
  static const std::string* const sql =
      new std::string(absl::StrCat(kSelectRun,
                                   "WHERE tenant = ?1 AND dataset = ?2 AND anno_key > ?3 "
                                   "AND (?4 = '' OR backend = ?4) "
                                   "AND (?5 = 0 OR state = ?5) "
                                   "AND (?6 = '' OR dataset_slug = ?6) "
                                   "ORDER BY anno_key LIMIT ?7"));
  return *sql;
}

absl::StatusOr<AnnotationRun> GetRunWith(SqliteStatement& select, const RunKey& key,
                                         RunRecordCache* cache) {
  constexpr absl::string_view kOp = "GetRun";
  LP_RETURN_IF_ERROR(select.BindText(1, key.tenant));
  LP_RETURN_IF_ERROR(select.BindText(2, key.dataset));
  LP_RETURN_IF_ERROR(select.BindText(3, key.anno_key));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunNotFound(key.anno_key);
  return ReadRun(select, kOp, cache);
}

absl::StatusOr<AnnotationRun> GetRunByUidWith(SqliteStatement& select, const std::string& run_id,
                                              RunRecordCache* cache) {
  constexpr absl::string_view kOp = "GetRunByUid";
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunUidNotFound(run_id);
  return ReadRun(select, kOp, cache);
}

absl::StatusOr<ListRunsPage> ListRunsWith(SqliteStatement& select, const ListRunsQuery& query,
                                          RunRecordCache* cache) {
  constexpr absl::string_view kOp = "ListRuns";
  LP_RETURN_IF_ERROR(select.BindText(1, query.tenant));
  LP_RETURN_IF_ERROR(select.BindText(2, query.dataset));
  LP_RETURN_IF_ERROR(select.BindText(3, query.after_anno_key));
  LP_RETURN_IF_ERROR(select.BindText(4, query.backend));
  LP_RETURN_IF_ERROR(select.BindInt64(5, query.state));
  LP_RETURN_IF_ERROR(select.BindText(6, query.dataset_slug));
  // One extra row tells whether another page exists.
  LP_RETURN_IF_ERROR(select.BindInt64(7, static_cast<int64_t>(query.page_size) + 1));
  ListRunsPage page;
  page.runs.reserve(static_cast<size_t>(query.page_size));
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.runs.size()) == query.page_size) {
      page.next_after_anno_key = page.runs.back().anno_key();
      break;
    }
    LP_ASSIGN_OR_RETURN(AnnotationRun run, ReadRun(select, kOp, cache));
    page.runs.push_back(std::move(run));
  }
  return page;
}

// The run with `run_id`, or nullopt when there is none.
absl::StatusOr<std::optional<AnnotationRun>> FindRunById(sqlite3* db, const std::string& run_id,
                                                         absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(db, absl::StrCat(kSelectRun, "WHERE run_id = ?1"),
                                               absl::StrCat(operation, ": read run")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::nullopt;
  return ReadRun(select, operation);
}

absl::StatusOr<AnnotationRun> LoadRunById(sqlite3* db, const std::string& run_id,
                                          absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(std::optional<AnnotationRun> run, FindRunById(db, run_id, operation));
  if (!run.has_value()) {
    return absl::InternalError(
        absl::StrCat(operation, ": run ", run_id, " vanished inside a transaction"));
  }
  return *std::move(run);
}

// NOT_FOUND unless a run has `run_id`.
absl::Status CheckRunExists(sqlite3* db, const std::string& run_id, absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(db, "SELECT 1 FROM runs WHERE run_id = ?1",
                                               absl::StrCat(operation, ": find run")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunUidNotFound(run_id);
  return absl::OkStatus();
}

// The records of the rows of `sql` (?1 is the run id), whose first
// column is a serialised `Message`; `more_params` are bound as ?2, ?3, ...
template <typename Message>
absl::StatusOr<std::vector<Message>> LoadRecords(sqlite3* db, absl::string_view sql,
                                                 const std::string& run_id,
                                                 absl::string_view operation,
                                                 std::initializer_list<int64_t> more_params = {}) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db, sql, absl::StrCat(operation, ": select records")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  int index = 2;
  for (int64_t value : more_params) LP_RETURN_IF_ERROR(select.BindInt64(index++, value));
  std::vector<Message> records;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    LP_ASSIGN_OR_RETURN(
        Message record,
        ParseRecord<Message>(select.ColumnBlob(0), operation,
                             absl::StrCat(Message::descriptor()->name(), " of run ", run_id)));
    records.push_back(std::move(record));
  }
  return records;
}

absl::StatusOr<std::optional<std::string>> FindRunId(sqlite3* db, const RunKey& key,
                                                     absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(db,
                                               "SELECT run_id FROM runs WHERE tenant = ?1 AND "
                                               "dataset = ?2 AND anno_key = ?3",
                                               absl::StrCat(operation, ": find run")));
  LP_RETURN_IF_ERROR(select.BindText(1, key.tenant));
  LP_RETURN_IF_ERROR(select.BindText(2, key.dataset));
  LP_RETURN_IF_ERROR(select.BindText(3, key.anno_key));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::nullopt;
  return select.ColumnText(0);
}

// Deletes the staged samples of stage `stage_id` of run `run_id`.
absl::Status DropStage(sqlite3* db, const std::string& run_id, const std::string& stage_id,
                       absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement drop,
      SqliteStatement::Prepare(db, "DELETE FROM staged_samples WHERE run_id = ?1 AND stage_id = ?2",
                               absl::StrCat(operation, ": drop stage")));
  LP_RETURN_IF_ERROR(drop.BindText(1, run_id));
  LP_RETURN_IF_ERROR(drop.BindText(2, stage_id));
  return drop.Run();
}

// The run recorded for `request_id` of `tenant`, if any.
absl::StatusOr<std::optional<std::string>> FindRequestRunId(sqlite3* db, const std::string& tenant,
                                                            const std::string& request_id,
                                                            absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement find,
                      SqliteStatement::Prepare(db,
                                               "SELECT run_id FROM request_ids WHERE "
                                               "tenant = ?1 AND request_id = ?2",
                                               absl::StrCat(operation, ": find request id")));
  LP_RETURN_IF_ERROR(find.BindText(1, tenant));
  LP_RETURN_IF_ERROR(find.BindText(2, request_id));
  LP_ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) return std::nullopt;
  return find.ColumnText(0);
}

absl::Status RecordRequestId(sqlite3* db, const std::string& tenant, const std::string& request_id,
                             const std::string& run_id, absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement insert,
                      SqliteStatement::Prepare(db,
                                               "INSERT INTO request_ids (tenant, "
                                               "request_id, run_id) VALUES (?1, ?2, ?3)",
                                               absl::StrCat(operation, ": record request id")));
  LP_RETURN_IF_ERROR(insert.BindText(1, tenant));
  LP_RETURN_IF_ERROR(insert.BindText(2, request_id));
  LP_RETURN_IF_ERROR(insert.BindText(3, run_id));
  return insert.Run();
}

// Deletes the pending run `spool_id` with its samples and label ids (ON
// DELETE CASCADE); returns whether there was one.
absl::StatusOr<bool> DropSpool(sqlite3* db, const std::string& spool_id,
                               absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement drop,
                      SqliteStatement::Prepare(db,
                                               "DELETE FROM runs WHERE run_id = ?1 AND "
                                               "spool_expires_ns IS NOT NULL",
                                               absl::StrCat(operation, ": drop spool")));
  LP_RETURN_IF_ERROR(drop.BindText(1, spool_id));
  LP_RETURN_IF_ERROR(drop.Run());
  return sqlite3_changes(db) > 0;
}

// A transaction rolled back on scope exit unless committed. Writers begin
// with IMMEDIATE so that the busy timeout applies to taking the write lock
// rather than failing on a read-to-write upgrade.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  absl::Status BeginRead(absl::string_view operation) { return Begin("BEGIN", operation); }
  absl::Status BeginWrite(absl::string_view operation) {
    return Begin("BEGIN IMMEDIATE", operation);
  }
  absl::Status Commit(absl::string_view operation) {
    LP_RETURN_IF_ERROR(SqliteExec(db_, "COMMIT", absl::StrCat(operation, ": commit")));
    open_ = false;
    return absl::OkStatus();
  }

 private:
  absl::Status Begin(absl::string_view sql, absl::string_view operation) {
    LP_RETURN_IF_ERROR(SqliteExec(db_, sql, absl::StrCat(operation, ": begin transaction")));
    open_ = true;
    return absl::OkStatus();
  }

  sqlite3* const db_;
  bool open_ = false;
};

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

absl::StatusOr<std::string> QueryPragma(sqlite3* db, absl::string_view pragma) {
  LP_ASSIGN_OR_RETURN(SqliteStatement statement,
                      SqliteStatement::Prepare(db, absl::StrCat("PRAGMA ", pragma),
                                               absl::StrCat("set PRAGMA ", pragma)));
  LP_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.ColumnText(0) : std::string();
}

absl::Status Configure(sqlite3* db, const SqliteRunStore::Options& options) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  LP_ASSIGN_OR_RETURN(std::string journal_mode, SwitchToWalJournal(db, options.busy_timeout));
  // An in-memory database has no WAL; it reports "memory".
  if (journal_mode != "wal" && options.path != ":memory:") {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot switch to WAL journal mode (got '", journal_mode, "')"));
  }
  LP_RETURN_IF_ERROR(SqliteExec(db, "PRAGMA foreign_keys = ON", "set PRAGMA foreign_keys"));
  LP_RETURN_IF_ERROR(SqliteExec(db, "PRAGMA synchronous = NORMAL", "set PRAGMA synchronous"));
  LP_ASSIGN_OR_RETURN(std::string foreign_keys, QueryPragma(db, "foreign_keys"));
  if (foreign_keys != "1") {
    return absl::FailedPreconditionError("this SQLite build does not enforce foreign keys");
  }
  return ApplySqliteMigrations(db, SqliteMigrations());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteRunStore>> SqliteRunStore::Create(const Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("SqliteRunStore::Create: the database path is empty");
  }
  if (options.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("SqliteRunStore::Create: busy_timeout is negative");
  }
  const std::string prefix = absl::StrCat("SqliteRunStore::Create('", options.path, "'): ");
  sqlite3* db = nullptr;
  // SQLITE_OPEN_NOMUTEX: the store's own mutex serialises the connection.
  int rc =
      sqlite3_open_v2(options.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, "open");
    sqlite3_close_v2(db);
    if (status.code() == absl::StatusCode::kInternal) {
      status = absl::UnavailableError(status.message());
    }
    return Prefixed(status, prefix);
  }
  if (absl::Status status = Configure(db, options); !status.ok()) {
    sqlite3_close_v2(db);
    return Prefixed(status, prefix);
  }
  std::unique_ptr<SqliteReadConnections> readers;
  if (options.read_connections > 0 && options.path != ":memory:") {
    absl::StatusOr<std::unique_ptr<SqliteReadConnections>> opened =
        SqliteReadConnections::Open(options.path, options.read_connections, options.busy_timeout);
    if (!opened.ok()) {
      sqlite3_close_v2(db);
      return Prefixed(opened.status(), prefix);
    }
    readers = *std::move(opened);
  }
  return std::unique_ptr<SqliteRunStore>(
      new SqliteRunStore(db, std::move(readers), options.record_cache_capacity));
}

SqliteRunStore::~SqliteRunStore() { sqlite3_close_v2(db_); }

std::string SqliteRunStore::NewRunId() {
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(bitgen_),
                         absl::Uniform<uint64_t>(bitgen_));
}

absl::StatusOr<CreateRunResult> SqliteRunStore::CreateRun(const NewRun& run) {
  constexpr absl::string_view kOp = "CreateRun";
  // Serialise outside the lock: it is the costly part for large runs.
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  std::vector<std::string> sample_blobs(run.samples.size());
  for (size_t i = 0; i < run.samples.size(); ++i) {
    if (!run.samples[i].SerializeToString(&sample_blobs[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(kOp, ": sample '", run.samples[i].id(), "' cannot be serialised"));
    }
  }

  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));

  if (!run.request_id.empty()) {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                        FindRequestRunId(db_, run.key.tenant, run.request_id, kOp));
    if (replay.has_value()) {
      CreateRunResult result;
      result.run_id = *std::move(replay);
      LP_ASSIGN_OR_RETURN(result.run, LoadRunById(db_, result.run_id, kOp));
      result.created = false;
      LP_RETURN_IF_ERROR(transaction.Commit(kOp));
      return result;
    }
  }

  const std::string run_id = NewRunId();
  const int64_t now = NowNanos();
  LP_ASSIGN_OR_RETURN(
      SqliteStatement insert_run,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, "
                               "state, dataset_slug, request_id, record, create_time_ns, "
                               "update_time_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                               "?10)",
                               absl::StrCat(kOp, ": insert run")));
  LP_RETURN_IF_ERROR(insert_run.BindText(1, run_id));
  LP_RETURN_IF_ERROR(insert_run.BindText(2, run.key.tenant));
  LP_RETURN_IF_ERROR(insert_run.BindText(3, run.key.dataset));
  LP_RETURN_IF_ERROR(insert_run.BindText(4, run.key.anno_key));
  LP_RETURN_IF_ERROR(insert_run.BindText(5, record.backend()));
  LP_RETURN_IF_ERROR(insert_run.BindInt64(6, record.state()));
  LP_RETURN_IF_ERROR(insert_run.BindText(7, record.darwin().dataset_slug()));
  LP_RETURN_IF_ERROR(insert_run.BindText(8, run.request_id));
  LP_RETURN_IF_ERROR(insert_run.BindBlob(9, record_blob));
  LP_RETURN_IF_ERROR(insert_run.BindInt64(10, now));
  if (absl::Status status = insert_run.Run(); !status.ok()) {
    if (insert_run.last_result_code() == SQLITE_CONSTRAINT_UNIQUE) {
      return RunKeyClash(run.key.anno_key);
    }
    return status;
  }

  if (!run.request_id.empty()) {
    LP_RETURN_IF_ERROR(RecordRequestId(db_, run.key.tenant, run.request_id, run_id, kOp));
  }

  LP_ASSIGN_OR_RETURN(SqliteStatement insert_sample,
                      SqliteStatement::Prepare(db_,
                                               "INSERT INTO run_samples (run_id, position, "
                                               "sample_id, sample) VALUES (?1, ?2, ?3, ?4)",
                                               absl::StrCat(kOp, ": insert sample")));
  for (size_t i = 0; i < run.samples.size(); ++i) {
    LP_RETURN_IF_ERROR(insert_sample.BindText(1, run_id));
    LP_RETURN_IF_ERROR(insert_sample.BindInt64(2, static_cast<int64_t>(i)));
    LP_RETURN_IF_ERROR(insert_sample.BindText(3, run.samples[i].id()));
    LP_RETURN_IF_ERROR(insert_sample.BindBlob(4, sample_blobs[i]));
    if (absl::Status status = insert_sample.Run(); !status.ok()) {
      if (IsUniqueViolation(insert_sample.last_result_code())) {
        return common::InvalidArgument("samples", "DUPLICATE_SAMPLE_ID",
                                       absl::StrCat(kOp, ": sample id '", run.samples[i].id(),
                                                    "' appears more than once in the run"));
      }
      return status;
    }
    insert_sample.Reset();
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));

  CreateRunResult result;
  result.run_id = run_id;
  result.created = true;
  result.run = std::move(record);
  FillOwnedFields({.run_id = run_id,
                   .dataset = run.key.dataset,
                   .anno_key = run.key.anno_key,
                   .create_time_ns = now,
                   .update_time_ns = now,
                   .revision = 1},
                  result.run);
  return result;
}

absl::StatusOr<RunSpool> SqliteRunStore::BeginRunSpool(const RunKey& key,
                                                       const std::string& request_id,
                                                       const std::string& owner,
                                                       absl::Duration ttl) {
  constexpr absl::string_view kOp = "BeginRunSpool";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  RunSpool spool;
  if (!request_id.empty()) {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                        FindRequestRunId(db_, key.tenant, request_id, kOp));
    if (replay.has_value()) {
      CreateRunResult& result = spool.replay.emplace();
      result.run_id = *std::move(replay);
      LP_ASSIGN_OR_RETURN(result.run, LoadRunById(db_, result.run_id, kOp));
      LP_RETURN_IF_ERROR(transaction.Commit(kOp));
      return spool;
    }
  }
  LP_ASSIGN_OR_RETURN(std::optional<std::string> taken, FindRunId(db_, key, kOp));
  if (taken.has_value()) return RunKeyClash(key.anno_key);
  spool.spool_id = NewRunId();
  const int64_t now = NowNanos();
  // No key yet: dataset '' (never a valid dataset) and the run id as anno_key.
  LP_ASSIGN_OR_RETURN(
      SqliteStatement insert,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, "
                               "state, dataset_slug, request_id, record, create_time_ns, "
                               "update_time_ns, spool_owner, spool_expires_ns) VALUES (?1, ?2, "
                               "'', ?1, '', -1, '', '', X'', ?3, ?3, ?4, ?5)",
                               absl::StrCat(kOp, ": insert pending run")));
  LP_RETURN_IF_ERROR(insert.BindText(1, spool.spool_id));
  LP_RETURN_IF_ERROR(insert.BindText(2, key.tenant));
  LP_RETURN_IF_ERROR(insert.BindInt64(3, now));
  LP_RETURN_IF_ERROR(insert.BindText(4, owner));
  LP_RETURN_IF_ERROR(insert.BindInt64(5, absl::ToUnixNanos(absl::FromUnixNanos(now) + ttl)));
  LP_RETURN_IF_ERROR(insert.Run());
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return spool;
}

absl::StatusOr<std::optional<SpoolConflict>> SqliteRunStore::AppendToRunSpool(
    const std::string& spool_id, int64_t first_position,
    const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
    absl::Duration ttl) {
  constexpr absl::string_view kOp = "AppendToRunSpool";
  if (auto repeat = run_records::RepeatInBatch(samples, label_ids)) return repeat;
  std::vector<std::string> blobs;
  blobs.reserve(samples.size());
  for (const auto& sample : samples) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(sample, kOp));
    blobs.push_back(std::move(blob));
  }
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(SqliteStatement touch,
                      SqliteStatement::Prepare(db_,
                                               "UPDATE runs SET spool_expires_ns = ?2 WHERE "
                                               "run_id = ?1 AND spool_expires_ns IS NOT NULL",
                                               absl::StrCat(kOp, ": extend spool")));
  LP_RETURN_IF_ERROR(touch.BindText(1, spool_id));
  LP_RETURN_IF_ERROR(touch.BindInt64(2, absl::ToUnixNanos(absl::Now() + ttl)));
  LP_RETURN_IF_ERROR(touch.Run());
  if (sqlite3_changes(db_) == 0) return run_records::RunSpoolNotFound(spool_id);

  // A conflict returns before the commit: the transaction rolls back.
  LP_ASSIGN_OR_RETURN(SqliteStatement insert_sample,
                      SqliteStatement::Prepare(db_,
                                               "INSERT INTO run_samples (run_id, position, "
                                               "sample_id, sample) VALUES (?1, ?2, ?3, ?4)",
                                               absl::StrCat(kOp, ": insert sample")));
  for (size_t i = 0; i < samples.size(); ++i) {
    LP_RETURN_IF_ERROR(insert_sample.BindText(1, spool_id));
    LP_RETURN_IF_ERROR(insert_sample.BindInt64(2, first_position + static_cast<int64_t>(i)));
    LP_RETURN_IF_ERROR(insert_sample.BindText(3, samples[i].id()));
    LP_RETURN_IF_ERROR(insert_sample.BindBlob(4, blobs[i]));
    if (absl::Status status = insert_sample.Run(); !status.ok()) {
      if (insert_sample.last_result_code() == SQLITE_CONSTRAINT_UNIQUE)
        return SpoolConflict{SpoolConflict::Kind::kSampleId, samples[i].id()};
      if (insert_sample.last_result_code() == SQLITE_CONSTRAINT_PRIMARYKEY)
        return common::InvalidArgument(
            "first_position", "INVALID_SAMPLE_POSITION",
            absl::StrCat(kOp, ": position ", first_position + static_cast<int64_t>(i), " of spool ",
                         spool_id, " is taken"));
      return status;
    }
    insert_sample.Reset();
  }
  LP_ASSIGN_OR_RETURN(SqliteStatement insert_label,
                      SqliteStatement::Prepare(db_,
                                               "INSERT INTO spooled_label_ids (run_id, label_id) "
                                               "VALUES (?1, ?2)",
                                               absl::StrCat(kOp, ": insert label id")));
  for (const std::string& label_id : label_ids) {
    LP_RETURN_IF_ERROR(insert_label.BindText(1, spool_id));
    LP_RETURN_IF_ERROR(insert_label.BindText(2, label_id));
    if (absl::Status status = insert_label.Run(); !status.ok()) {
      if (IsUniqueViolation(insert_label.last_result_code()))
        return SpoolConflict{SpoolConflict::Kind::kLabelId, label_id};
      return status;
    }
    insert_label.Reset();
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return std::nullopt;
}

absl::StatusOr<CreateRunResult> SqliteRunStore::CommitRunSpool(const std::string& spool_id,
                                                               const NewRun& run) {
  constexpr absl::string_view kOp = "CommitRunSpool";
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(SqliteStatement find,
                      SqliteStatement::Prepare(db_,
                                               "SELECT 1 FROM runs WHERE run_id = ?1 AND "
                                               "spool_expires_ns IS NOT NULL",
                                               absl::StrCat(kOp, ": find spool")));
  LP_RETURN_IF_ERROR(find.BindText(1, spool_id));
  LP_ASSIGN_OR_RETURN(bool pending, find.Step());
  if (!pending) return run_records::RunSpoolNotFound(spool_id);
  find.Reset();

  if (!run.request_id.empty()) {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                        FindRequestRunId(db_, run.key.tenant, run.request_id, kOp));
    if (replay.has_value()) {
      CreateRunResult result;
      result.run_id = *std::move(replay);
      LP_ASSIGN_OR_RETURN(result.run, LoadRunById(db_, result.run_id, kOp));
      LP_RETURN_IF_ERROR(DropSpool(db_, spool_id, kOp).status());
      LP_RETURN_IF_ERROR(transaction.Commit(kOp));
      return result;
    }
  }

  const int64_t now = NowNanos();
  LP_ASSIGN_OR_RETURN(
      SqliteStatement update,
      SqliteStatement::Prepare(db_,
                               "UPDATE runs SET tenant = ?2, dataset = ?3, anno_key = ?4, "
                               "backend = ?5, state = ?6, dataset_slug = ?7, request_id = ?8, "
                               "record = ?9, create_time_ns = ?10, update_time_ns = ?10, "
                               "revision = 1, spool_owner = NULL, spool_expires_ns = NULL "
                               "WHERE run_id = ?1",
                               absl::StrCat(kOp, ": make the run live")));
  LP_RETURN_IF_ERROR(update.BindText(1, spool_id));
  LP_RETURN_IF_ERROR(update.BindText(2, run.key.tenant));
  LP_RETURN_IF_ERROR(update.BindText(3, run.key.dataset));
  LP_RETURN_IF_ERROR(update.BindText(4, run.key.anno_key));
  LP_RETURN_IF_ERROR(update.BindText(5, record.backend()));
  LP_RETURN_IF_ERROR(update.BindInt64(6, record.state()));
  LP_RETURN_IF_ERROR(update.BindText(7, record.darwin().dataset_slug()));
  LP_RETURN_IF_ERROR(update.BindText(8, run.request_id));
  LP_RETURN_IF_ERROR(update.BindBlob(9, record_blob));
  LP_RETURN_IF_ERROR(update.BindInt64(10, now));
  if (absl::Status status = update.Run(); !status.ok()) {
    if (update.last_result_code() != SQLITE_CONSTRAINT_UNIQUE) return status;
    // The failed statement changed nothing; the spool goes in this transaction.
    LP_RETURN_IF_ERROR(DropSpool(db_, spool_id, kOp).status());
    LP_RETURN_IF_ERROR(transaction.Commit(kOp));
    return RunKeyClash(run.key.anno_key);
  }
  if (!run.request_id.empty()) {
    LP_RETURN_IF_ERROR(RecordRequestId(db_, run.key.tenant, run.request_id, spool_id, kOp));
  }
  LP_ASSIGN_OR_RETURN(
      SqliteStatement drop_labels,
      SqliteStatement::Prepare(db_, "DELETE FROM spooled_label_ids WHERE run_id = ?1",
                               absl::StrCat(kOp, ": drop label ids")));
  LP_RETURN_IF_ERROR(drop_labels.BindText(1, spool_id));
  LP_RETURN_IF_ERROR(drop_labels.Run());
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));

  CreateRunResult result;
  result.run_id = spool_id;
  result.created = true;
  result.run = std::move(record);
  FillOwnedFields({.run_id = spool_id,
                   .dataset = run.key.dataset,
                   .anno_key = run.key.anno_key,
                   .create_time_ns = now,
                   .update_time_ns = now,
                   .revision = 1},
                  result.run);
  return result;
}

absl::Status SqliteRunStore::DiscardRunSpool(const std::string& spool_id) {
  constexpr absl::string_view kOp = "DiscardRunSpool";
  absl::MutexLock lock(&mu_);
  return DropSpool(db_, spool_id, kOp).status();
}

absl::StatusOr<int64_t> SqliteRunStore::DiscardRunSpoolsOf(const std::string& owner) {
  constexpr absl::string_view kOp = "DiscardRunSpoolsOf";
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(SqliteStatement drop,
                      SqliteStatement::Prepare(db_,
                                               "DELETE FROM runs WHERE spool_owner = ?1 AND "
                                               "spool_expires_ns IS NOT NULL",
                                               absl::StrCat(kOp, ": drop spools")));
  LP_RETURN_IF_ERROR(drop.BindText(1, owner));
  LP_RETURN_IF_ERROR(drop.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<int64_t> SqliteRunStore::DiscardExpiredRunSpools() {
  constexpr absl::string_view kOp = "DiscardExpiredRunSpools";
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(SqliteStatement drop,
                      SqliteStatement::Prepare(db_,
                                               "DELETE FROM runs WHERE spool_expires_ns IS NOT "
                                               "NULL AND spool_expires_ns < ?1",
                                               absl::StrCat(kOp, ": drop spools")));
  LP_RETURN_IF_ERROR(drop.BindInt64(1, NowNanos()));
  LP_RETURN_IF_ERROR(drop.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<AnnotationRun> SqliteRunStore::GetRun(const RunKey& key) {
  constexpr absl::string_view kOp = "GetRun";
  if (readers_ != nullptr) {
    SqliteReadConnections::Lease reader = readers_->Acquire();
    LP_ASSIGN_OR_RETURN(SqliteStatement select,
                        reader->Prepare(SelectRunByKey(), absl::StrCat(kOp, ": read run")));
    return GetRunWith(select, key, records_.get());
  }
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_, SelectRunByKey(), absl::StrCat(kOp, ": read run")));
  return GetRunWith(select, key, records_.get());
}

absl::StatusOr<ListRunsPage> SqliteRunStore::ListRuns(const ListRunsQuery& query) {
  constexpr absl::string_view kOp = "ListRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(query.page_size, kOp));
  if (readers_ != nullptr) {
    SqliteReadConnections::Lease reader = readers_->Acquire();
    LP_ASSIGN_OR_RETURN(SqliteStatement select,
                        reader->Prepare(SelectRunPage(), absl::StrCat(kOp, ": select runs")));
    return ListRunsWith(select, query, records_.get());
  }
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_, SelectRunPage(), absl::StrCat(kOp, ": select runs")));
  return ListRunsWith(select, query, records_.get());
}

absl::StatusOr<AnnotationRun> SqliteRunStore::RenameRun(const RunKey& key,
                                                        const std::string& new_anno_key) {
  constexpr absl::string_view kOp = "RenameRun";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id, FindRunId(db_, key, kOp));
  if (!run_id.has_value()) return RunNotFound(key.anno_key);
  // Renaming onto itself is a clash too, as in FiftyOne.
  if (new_anno_key == key.anno_key) return RenameKeyClash(new_anno_key);
  LP_ASSIGN_OR_RETURN(SqliteStatement update,
                      SqliteStatement::Prepare(db_,
                                               "UPDATE runs SET anno_key = ?1, "
                                               "update_time_ns = MAX(update_time_ns, ?2), "
                                               "revision = revision + 1 WHERE run_id = ?3",
                                               absl::StrCat(kOp, ": update run")));
  LP_RETURN_IF_ERROR(update.BindText(1, new_anno_key));
  LP_RETURN_IF_ERROR(update.BindInt64(2, NowNanos()));
  LP_RETURN_IF_ERROR(update.BindText(3, *run_id));
  if (absl::Status status = update.Run(); !status.ok()) {
    if (update.last_result_code() == SQLITE_CONSTRAINT_UNIQUE) return RenameKeyClash(new_anno_key);
    return status;
  }
  LP_ASSIGN_OR_RETURN(AnnotationRun run, LoadRunById(db_, *run_id, kOp));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return run;
}

absl::Status SqliteRunStore::DeleteRun(const RunKey& key) {
  constexpr absl::string_view kOp = "DeleteRun";
  absl::MutexLock lock(&mu_);
  // Samples, the request id and the job state go with the run through
  // ON DELETE CASCADE, inside the one implicit transaction of this statement.
  LP_ASSIGN_OR_RETURN(SqliteStatement remove,
                      SqliteStatement::Prepare(db_,
                                               "DELETE FROM runs WHERE tenant = ?1 AND "
                                               "dataset = ?2 AND anno_key = ?3",
                                               absl::StrCat(kOp, ": delete run")));
  LP_RETURN_IF_ERROR(remove.BindText(1, key.tenant));
  LP_RETURN_IF_ERROR(remove.BindText(2, key.dataset));
  LP_RETURN_IF_ERROR(remove.BindText(3, key.anno_key));
  LP_RETURN_IF_ERROR(remove.Run());
  if (sqlite3_changes(db_) == 0) return RunNotFound(key.anno_key);
  return absl::OkStatus();
}

absl::StatusOr<SampleIdPage> SqliteRunStore::ListRunSamples(const RunKey& key,
                                                            int64_t start_position, int page_size) {
  constexpr absl::string_view kOp = "ListRunSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(page_size, kOp));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id, FindRunId(db_, key, kOp));
  if (!run_id.has_value()) return RunNotFound(key.anno_key);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_,
                               "SELECT position, sample_id FROM run_samples WHERE run_id = ?1 AND "
                               "position >= ?2 ORDER BY position LIMIT ?3",
                               absl::StrCat(kOp, ": select samples")));
  LP_RETURN_IF_ERROR(select.BindText(1, *run_id));
  LP_RETURN_IF_ERROR(select.BindInt64(2, start_position));
  LP_RETURN_IF_ERROR(select.BindInt64(3, static_cast<int64_t>(page_size) + 1));
  SampleIdPage page;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.sample_ids.size()) == page_size) {
      page.next_start_position = select.ColumnInt64(0);
      break;
    }
    page.sample_ids.push_back(select.ColumnText(1));
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return page;
}

absl::StatusOr<AnnotationRun> SqliteRunStore::GetRunByUid(const std::string& run_id) {
  constexpr absl::string_view kOp = "GetRunByUid";
  if (readers_ != nullptr) {
    SqliteReadConnections::Lease reader = readers_->Acquire();
    LP_ASSIGN_OR_RETURN(SqliteStatement select,
                        reader->Prepare(SelectRunById(), absl::StrCat(kOp, ": read run")));
    return GetRunByUidWith(select, run_id, records_.get());
  }
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_, SelectRunById(), absl::StrCat(kOp, ": read run")));
  return GetRunByUidWith(select, run_id, records_.get());
}

absl::StatusOr<AnnotationRun> SqliteRunStore::UpdateRun(const std::string& run_id,
                                                        const RunMutator& mutate) {
  constexpr absl::string_view kOp = "UpdateRun";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(db_, absl::StrCat(kSelectRun, "WHERE run_id = ?1"),
                                               absl::StrCat(kOp, ": read run")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunUidNotFound(run_id);
  OwnedFields owned = ReadOwnedFields(select);
  LP_ASSIGN_OR_RETURN(AnnotationRun run, ReadRun(select, kOp));
  select.Reset();

  LP_RETURN_IF_ERROR(mutate(run));
  // Whatever the mutator did to them, the store-owned fields come from the
  // columns; clearing them also keeps them out of the blob.
  ClearOwnedFields(run);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(run, kOp));
  owned.revision += 1;
  // Never backwards, even if the clock is.
  owned.update_time_ns = std::max(owned.update_time_ns, NowNanos());

  LP_ASSIGN_OR_RETURN(
      SqliteStatement update,
      SqliteStatement::Prepare(db_,
                               "UPDATE runs SET record = ?1, backend = ?2, state = ?3, "
                               "dataset_slug = ?4, revision = ?5, update_time_ns = ?6 "
                               "WHERE run_id = ?7",
                               absl::StrCat(kOp, ": update run")));
  LP_RETURN_IF_ERROR(update.BindBlob(1, record_blob));
  LP_RETURN_IF_ERROR(update.BindText(2, run.backend()));
  LP_RETURN_IF_ERROR(update.BindInt64(3, run.state()));
  LP_RETURN_IF_ERROR(update.BindText(4, run.darwin().dataset_slug()));
  LP_RETURN_IF_ERROR(update.BindInt64(5, owned.revision));
  LP_RETURN_IF_ERROR(update.BindInt64(6, owned.update_time_ns));
  LP_RETURN_IF_ERROR(update.BindText(7, run_id));
  LP_RETURN_IF_ERROR(update.Run());
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  FillOwnedFields(owned, run);
  return run;
}

absl::StatusOr<std::vector<labelport::v1::Sample>> SqliteRunStore::LoadSamples(
    const std::string& run_id, int64_t start_position, int max_count) {
  constexpr absl::string_view kOp = "LoadSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_,
                               "SELECT sample FROM run_samples WHERE run_id = ?1 AND "
                               "position >= ?2 ORDER BY position LIMIT ?3",
                               absl::StrCat(kOp, ": select samples")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_RETURN_IF_ERROR(select.BindInt64(2, start_position));
  LP_RETURN_IF_ERROR(select.BindInt64(3, max_count));
  std::vector<labelport::v1::Sample> samples;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    LP_ASSIGN_OR_RETURN(labelport::v1::Sample sample,
                        ParseRecord<labelport::v1::Sample>(
                            select.ColumnBlob(0), kOp,
                            absl::StrCat("sample at position ",
                                         start_position + static_cast<int64_t>(samples.size()),
                                         " of run ", run_id)));
    samples.push_back(std::move(sample));
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return samples;
}

absl::Status SqliteRunStore::StageSamples(
    const std::string& run_id, const std::string& stage_id,
    const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) {
  constexpr absl::string_view kOp = "StageSamples";
  std::vector<std::string> blobs;
  blobs.reserve(samples.size());
  for (const auto& [position, sample] : samples) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(sample, kOp));
    blobs.push_back(std::move(blob));
  }
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO staged_samples (run_id, stage_id, position, sample) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, stage_id, position) "
                               "DO UPDATE SET sample = excluded.sample",
                               absl::StrCat(kOp, ": upsert staged sample")));
  for (size_t i = 0; i < samples.size(); ++i) {
    LP_RETURN_IF_ERROR(upsert.BindText(1, run_id));
    LP_RETURN_IF_ERROR(upsert.BindText(2, stage_id));
    LP_RETURN_IF_ERROR(upsert.BindInt64(3, samples[i].first));
    LP_RETURN_IF_ERROR(upsert.BindBlob(4, blobs[i]));
    LP_RETURN_IF_ERROR(upsert.Run());
    upsert.Reset();
  }
  return transaction.Commit(kOp);
}

absl::Status SqliteRunStore::CommitStagedSamples(const std::string& run_id,
                                                 const std::string& stage_id) {
  constexpr absl::string_view kOp = "CommitStagedSamples";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_,
                               "SELECT s.position, s.sample, r.sample_id FROM staged_samples s "
                               "LEFT JOIN run_samples r ON r.run_id = s.run_id AND "
                               "r.position = s.position WHERE s.run_id = ?1 AND s.stage_id = ?2 "
                               "ORDER BY s.position",
                               absl::StrCat(kOp, ": select staged samples")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_RETURN_IF_ERROR(select.BindText(2, stage_id));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement update,
      SqliteStatement::Prepare(db_,
                               "UPDATE run_samples SET sample = ?3 WHERE run_id = ?1 AND "
                               "position = ?2",
                               absl::StrCat(kOp, ": update sample")));
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    const int64_t position = select.ColumnInt64(0);
    const std::string blob(select.ColumnBlob(1));
    const std::string stored_id = select.ColumnText(2);
    LP_ASSIGN_OR_RETURN(labelport::v1::Sample sample,
                        ParseRecord<labelport::v1::Sample>(
                            blob, kOp, absl::StrCat("staged sample at position ", position)));
    if (stored_id.empty() || sample.id() != stored_id) {
      return common::InvalidArgument("samples.position", "INVALID_SAMPLE_POSITION",
                                     absl::StrCat(kOp, ": run ", run_id, " has no sample '",
                                                  sample.id(), "' at position ", position));
    }
    LP_RETURN_IF_ERROR(update.BindText(1, run_id));
    LP_RETURN_IF_ERROR(update.BindInt64(2, position));
    LP_RETURN_IF_ERROR(update.BindBlob(3, blob));
    LP_RETURN_IF_ERROR(update.Run());
    update.Reset();
  }
  LP_RETURN_IF_ERROR(DropStage(db_, run_id, stage_id, kOp));
  return transaction.Commit(kOp);
}

absl::Status SqliteRunStore::DiscardStagedSamples(const std::string& run_id,
                                                  const std::string& stage_id) {
  constexpr absl::string_view kOp = "DiscardStagedSamples";
  absl::MutexLock lock(&mu_);
  return DropStage(db_, run_id, stage_id, kOp);
}

absl::Status SqliteRunStore::SaveSampleProgress(const std::string& run_id,
                                                const std::vector<SampleProgress>& progress) {
  constexpr absl::string_view kOp = "SaveSampleProgress";
  std::vector<std::string> blobs;
  blobs.reserve(progress.size());
  for (const SampleProgress& record : progress) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(record, kOp));
    blobs.push_back(std::move(blob));
  }
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  // Positions are 0..n-1, so the highest one (an index lookup) gives n.
  LP_ASSIGN_OR_RETURN(SqliteStatement count,
                      SqliteStatement::Prepare(db_,
                                               "SELECT COALESCE(MAX(position), -1) + 1 FROM "
                                               "run_samples WHERE run_id = ?1",
                                               absl::StrCat(kOp, ": count samples")));
  LP_RETURN_IF_ERROR(count.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool counted, count.Step());
  const int64_t sample_count = counted ? count.ColumnInt64(0) : 0;
  LP_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO sample_progress (run_id, position, record) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT (run_id, position) "
                               "DO UPDATE SET record = excluded.record",
                               absl::StrCat(kOp, ": upsert progress")));
  for (size_t i = 0; i < progress.size(); ++i) {
    const int64_t position = progress[i].position();
    if (position < 0 || position >= sample_count) {
      return common::InvalidArgument(
          "progress.position", "INVALID_SAMPLE_POSITION",
          absl::StrCat(kOp, ": run ", run_id, " has no sample at position ", position, " (it has ",
                       sample_count, " samples)"));
    }
    LP_RETURN_IF_ERROR(upsert.BindText(1, run_id));
    LP_RETURN_IF_ERROR(upsert.BindInt64(2, position));
    LP_RETURN_IF_ERROR(upsert.BindBlob(3, blobs[i]));
    LP_RETURN_IF_ERROR(upsert.Run());
    upsert.Reset();
  }
  return transaction.Commit(kOp);
}

absl::StatusOr<std::vector<SampleProgress>> SqliteRunStore::LoadSampleProgress(
    const std::string& run_id) {
  constexpr absl::string_view kOp = "LoadSampleProgress";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(std::vector<SampleProgress> records,
                      LoadRecords<SampleProgress>(db_,
                                                  "SELECT record FROM sample_progress WHERE "
                                                  "run_id = ?1 ORDER BY position",
                                                  run_id, kOp));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return records;
}

absl::StatusOr<std::vector<SampleProgress>> SqliteRunStore::LoadSampleProgressRange(
    const std::string& run_id, int64_t start_position, int max_count) {
  constexpr absl::string_view kOp = "LoadSampleProgressRange";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      std::vector<SampleProgress> records,
      LoadRecords<SampleProgress>(db_,
                                  "SELECT record FROM sample_progress WHERE "
                                  "run_id = ?1 AND position >= ?2 AND "
                                  "position < ?3 ORDER BY position",
                                  run_id, kOp, {start_position, start_position + max_count}));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return records;
}

absl::Status SqliteRunStore::SaveAnnotationLinks(const std::string& run_id,
                                                 const std::vector<AnnotationLink>& links) {
  constexpr absl::string_view kOp = "SaveAnnotationLinks";
  std::vector<std::string> blobs;
  blobs.reserve(links.size());
  for (const AnnotationLink& link : links) {
    if (link.annotation_id().empty()) {
      return common::InvalidArgument("links.annotation_id", "EMPTY_ANNOTATION_ID",
                                     absl::StrCat(kOp, ": the link of label '", link.label_id(),
                                                  "' of run ", run_id, " has no annotation id"));
    }
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(link, kOp));
    blobs.push_back(std::move(blob));
  }
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO annotation_links (run_id, annotation_id, record, "
                               "item_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, "
                               "annotation_id) DO UPDATE SET record = excluded.record, "
                               "item_id = excluded.item_id",
                               absl::StrCat(kOp, ": upsert link")));
  for (size_t i = 0; i < links.size(); ++i) {
    LP_RETURN_IF_ERROR(upsert.BindText(1, run_id));
    LP_RETURN_IF_ERROR(upsert.BindText(2, links[i].annotation_id()));
    LP_RETURN_IF_ERROR(upsert.BindBlob(3, blobs[i]));
    LP_RETURN_IF_ERROR(upsert.BindText(4, links[i].item_id()));
    LP_RETURN_IF_ERROR(upsert.Run());
    upsert.Reset();
  }
  return transaction.Commit(kOp);
}

absl::StatusOr<std::vector<AnnotationLink>> SqliteRunStore::LoadAnnotationLinksForItem(
    const std::string& run_id, const std::string& item_id) {
  constexpr absl::string_view kOp = "LoadAnnotationLinksForItem";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(db_,
                                               "SELECT record FROM annotation_links WHERE "
                                               "run_id = ?1 AND item_id IN (?2, '')",
                                               absl::StrCat(kOp, ": select links")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_RETURN_IF_ERROR(select.BindText(2, item_id));
  std::vector<AnnotationLink> links;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    LP_ASSIGN_OR_RETURN(AnnotationLink link,
                        ParseRecord<AnnotationLink>(select.ColumnBlob(0), kOp,
                                                    absl::StrCat("a link of run ", run_id)));
    // Rows from before migration 4 carry no item id column: filter here.
    if (link.item_id() == item_id) links.push_back(std::move(link));
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return links;
}

absl::StatusOr<std::vector<AnnotationLink>> SqliteRunStore::LoadAnnotationLinks(
    const std::string& run_id) {
  constexpr absl::string_view kOp = "LoadAnnotationLinks";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(std::vector<AnnotationLink> links,
                      LoadRecords<AnnotationLink>(db_,
                                                  "SELECT record FROM annotation_links WHERE "
                                                  "run_id = ?1 ORDER BY annotation_id",
                                                  run_id, kOp));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return links;
}

absl::Status SqliteRunStore::SaveBackendState(const std::string& run_id,
                                              const google::protobuf::Any& state) {
  constexpr absl::string_view kOp = "SaveBackendState";
  LP_RETURN_IF_ERROR(CheckBackendState(state, run_id, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement upsert,
      SqliteStatement::Prepare(db_,
                               "INSERT INTO backend_state (run_id, type_url, record) "
                               "VALUES (?1, ?2, ?3) ON CONFLICT (run_id) DO UPDATE SET "
                               "type_url = excluded.type_url, record = excluded.record",
                               absl::StrCat(kOp, ": upsert state")));
  LP_RETURN_IF_ERROR(upsert.BindText(1, run_id));
  LP_RETURN_IF_ERROR(upsert.BindText(2, state.type_url()));
  LP_RETURN_IF_ERROR(upsert.BindBlob(3, state.value()));
  LP_RETURN_IF_ERROR(upsert.Run());
  return transaction.Commit(kOp);
}

absl::StatusOr<google::protobuf::Any> SqliteRunStore::LoadBackendState(const std::string& run_id) {
  constexpr absl::string_view kOp = "LoadBackendState";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db_, "SELECT type_url, record FROM backend_state WHERE run_id = ?1",
                               absl::StrCat(kOp, ": select state")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  google::protobuf::Any state;
  if (found) {
    state.set_type_url(select.ColumnText(0));
    state.set_value(std::string(select.ColumnBlob(1)));
  }
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return state;
}

absl::StatusOr<bool> SqliteRunStore::AcquireLease(const std::string& run_id,
                                                  const std::string& owner, absl::Duration ttl) {
  constexpr absl::string_view kOp = "AcquireLease";
  LP_RETURN_IF_ERROR(CheckLeaseRequest(owner, ttl, kOp));
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  const absl::Time now = absl::Now();
  // One conditional UPDATE under the write lock: the check and the take
  // cannot be separated by another writer, in this process or another.
  LP_ASSIGN_OR_RETURN(
      SqliteStatement take,
      SqliteStatement::Prepare(db_,
                               "UPDATE runs SET lease_owner = ?2, lease_expires_ns = ?3 "
                               "WHERE run_id = ?1 AND (lease_owner IS NULL OR lease_owner = ?2 "
                               "OR lease_expires_ns < ?4)",
                               absl::StrCat(kOp, ": take lease")));
  LP_RETURN_IF_ERROR(take.BindText(1, run_id));
  LP_RETURN_IF_ERROR(take.BindText(2, owner));
  // ToUnixNanos saturates, so a huge ttl means "until released".
  LP_RETURN_IF_ERROR(take.BindInt64(3, absl::ToUnixNanos(now + ttl)));
  LP_RETURN_IF_ERROR(take.BindInt64(4, absl::ToUnixNanos(now)));
  LP_RETURN_IF_ERROR(take.Run());
  const bool taken = sqlite3_changes(db_) > 0;
  if (!taken) LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return taken;
}

absl::Status SqliteRunStore::ReleaseLease(const std::string& run_id, const std::string& owner) {
  constexpr absl::string_view kOp = "ReleaseLease";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(
      SqliteStatement release,
      SqliteStatement::Prepare(db_,
                               "UPDATE runs SET lease_owner = NULL, lease_expires_ns = NULL "
                               "WHERE run_id = ?1 AND lease_owner = ?2",
                               absl::StrCat(kOp, ": free lease")));
  LP_RETURN_IF_ERROR(release.BindText(1, run_id));
  LP_RETURN_IF_ERROR(release.BindText(2, owner));
  LP_RETURN_IF_ERROR(release.Run());
  if (sqlite3_changes(db_) == 0) {
    LP_RETURN_IF_ERROR(CheckRunExists(db_, run_id, kOp));
  }
  return transaction.Commit(kOp);
}

absl::StatusOr<std::vector<ClaimableRun>> SqliteRunStore::ListClaimableRuns(
    int max_count, const std::string& owner) {
  constexpr absl::string_view kOp = "ListClaimableRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(
                          db_,
                          "SELECT run_id, tenant, dataset, anno_key FROM ("
                          "SELECT run_id, tenant, dataset, anno_key, create_time_ns, "
                          "ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY create_time_ns, run_id) "
                          "AS tenant_rank FROM runs WHERE state IN (1, 2) "
                          "AND (lease_owner IS NULL OR lease_expires_ns < ?1 OR lease_owner = ?3)) "
                          "ORDER BY tenant_rank, create_time_ns, run_id LIMIT ?2",
                          absl::StrCat(kOp, ": select runs")));
  LP_RETURN_IF_ERROR(select.BindInt64(1, NowNanos()));
  LP_RETURN_IF_ERROR(select.BindInt64(2, max_count));
  LP_RETURN_IF_ERROR(select.BindText(3, owner));
  std::vector<ClaimableRun> runs;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    runs.push_back(ClaimableRun{
        .run_id = select.ColumnText(0),
        .key = RunKey{select.ColumnText(1), select.ColumnText(2), select.ColumnText(3)}});
  }
  return runs;
}

}  // namespace labelport::store
