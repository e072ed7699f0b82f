#include "service/store/sqlite_run_store.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/store/run_records.h"
#include "service/store/sqlite_statement.h"
#include "service/store/transaction.h"

namespace labelport::store {
namespace {

using ::labelport::internal::v1::AnnotationLink;
using ::labelport::internal::v1::SampleProgress;
using ::labelport::v1::AnnotationRun;
using ::labelport::v1::Sample;
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

constexpr TransactionMode kRead = TransactionMode::kRead;
constexpr TransactionMode kWrite = TransactionMode::kWrite;

// Steps `select` through its rows and calls `on_row()` (an absl::Status) at
// each; the first error stops.
template <typename OnRow>
absl::Status ForEachRow(SqliteStatement& select, OnRow&& on_row) {
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return absl::OkStatus();
    LP_RETURN_IF_ERROR(on_row());
  }
}

// The run of the first row of `select` (kSelectRun with its parameters
// bound), if any.
absl::StatusOr<std::optional<AnnotationRun>> ReadFirstRun(SqliteStatement& select,
                                                          absl::string_view operation,
                                                          RunRecordCache* cache = nullptr) {
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::nullopt;
  return ReadRun(select, operation, cache);
}

absl::StatusOr<ListRunsPage> ListRunsWith(SqliteStatement& select, const ListRunsQuery& query,
                                          RunRecordCache* cache) {
  constexpr absl::string_view kOp = "ListRuns";
  // One extra row tells whether another page exists.
  LP_RETURN_IF_ERROR(
      select.BindAll({query.tenant, query.dataset, query.after_anno_key, query.backend,
                      static_cast<int64_t>(query.state), query.dataset_slug,
                      static_cast<int64_t>(query.page_size) + 1}));
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
                      SqliteStatement::Prepare(db, SelectRunById(),
                                               absl::StrCat(operation, ": read run"), {run_id}));
  return ReadFirstRun(select, operation);
}

absl::StatusOr<AnnotationRun> LoadRunById(sqlite3* db, const std::string& run_id,
                                          absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(std::optional<AnnotationRun> run, FindRunById(db, run_id, operation));
  return run_records::StillThere(std::move(run), run_id, operation);
}

// The first column of the first row of `sql` with `params`, if any.
absl::StatusOr<std::optional<std::string>> SelectText(sqlite3* db, absl::string_view sql,
                                                      absl::string_view operation,
                                                      std::initializer_list<SqliteValue> params) {
  LP_ASSIGN_OR_RETURN(SqliteStatement select, SqliteStatement::Prepare(db, sql, operation, params));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::nullopt;
  return select.ColumnText(0);
}

// NOT_FOUND unless a run has `run_id`.
absl::Status CheckRunExists(sqlite3* db, const std::string& run_id, absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(std::optional<std::string> found,
                      SelectText(db, "SELECT 1 FROM runs WHERE run_id = ?1",
                                 absl::StrCat(operation, ": find run"), {run_id}));
  if (!found.has_value()) return RunUidNotFound(run_id);
  return absl::OkStatus();
}

// The records of the rows of `sql` with `params`, whose first column is a
// serialised `Message` of run `run_id`.
template <typename Message>
absl::StatusOr<std::vector<Message>> LoadRecords(sqlite3* db, absl::string_view sql,
                                                 std::initializer_list<SqliteValue> params,
                                                 const std::string& run_id,
                                                 absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(db, sql, absl::StrCat(operation, ": select records"), params));
  std::vector<Message> records;
  LP_RETURN_IF_ERROR(ForEachRow(select, [&]() -> absl::Status {
    LP_ASSIGN_OR_RETURN(
        Message record,
        ParseRecord<Message>(select.ColumnBlob(0), operation,
                             absl::StrCat(Message::descriptor()->name(), " of run ", run_id)));
    records.push_back(std::move(record));
    return absl::OkStatus();
  }));
  return records;
}

// In one read transaction: NOT_FOUND unless run `run_id` exists, else
// LoadRecords.
template <typename Message>
absl::StatusOr<std::vector<Message>> LoadRunRecords(SqlitePool& pool, absl::string_view sql,
                                                    std::initializer_list<SqliteValue> params,
                                                    const std::string& run_id,
                                                    absl::string_view operation) {
  return InTransaction(pool, kRead, operation,
                       [&](sqlite3* db) -> absl::StatusOr<std::vector<Message>> {
                         LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, operation));
                         return LoadRecords<Message>(db, sql, params, run_id, operation);
                       });
}

absl::StatusOr<std::optional<std::string>> FindRunId(sqlite3* db, const RunKey& key,
                                                     absl::string_view operation) {
  return SelectText(db,
                    "SELECT run_id FROM runs WHERE tenant = ?1 AND dataset = ?2 AND anno_key = ?3",
                    absl::StrCat(operation, ": find run"), {key.tenant, key.dataset, key.anno_key});
}

// Deletes the staged samples of stage `stage_id` of run `run_id`.
absl::Status DropStage(sqlite3* db, const std::string& run_id, const std::string& stage_id,
                       absl::string_view operation) {
  return SqliteExecute(db, "DELETE FROM staged_samples WHERE run_id = ?1 AND stage_id = ?2",
                       absl::StrCat(operation, ": drop stage"), {run_id, stage_id})
      .status();
}

// The run already recorded for `request_id` of `tenant` (created = false),
// if there is one; nullopt too for an empty request id.
absl::StatusOr<std::optional<CreateRunResult>> FindReplay(sqlite3* db, const std::string& tenant,
                                                          const std::string& request_id,
                                                          absl::string_view operation) {
  if (request_id.empty()) return std::nullopt;
  LP_ASSIGN_OR_RETURN(
      std::optional<std::string> run_id,
      SelectText(db, "SELECT run_id FROM request_ids WHERE tenant = ?1 AND request_id = ?2",
                 absl::StrCat(operation, ": find request id"), {tenant, request_id}));
  if (!run_id.has_value()) return std::nullopt;
  CreateRunResult result;
  result.run_id = *std::move(run_id);
  LP_ASSIGN_OR_RETURN(result.run, LoadRunById(db, result.run_id, operation));
  result.created = false;
  return result;
}

absl::Status RecordRequestId(sqlite3* db, const std::string& tenant, const std::string& request_id,
                             const std::string& run_id, absl::string_view operation) {
  if (request_id.empty()) return absl::OkStatus();
  return SqliteExecute(db,
                       "INSERT INTO request_ids (tenant, request_id, run_id) VALUES (?1, ?2, ?3)",
                       absl::StrCat(operation, ": record request id"), {tenant, request_id, run_id})
      .status();
}

// Deletes the pending run `spool_id` with its samples and label ids (ON
// DELETE CASCADE); returns whether there was one.
absl::StatusOr<bool> DropSpool(sqlite3* db, const std::string& spool_id,
                               absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(
      int dropped,
      SqliteExecute(db, "DELETE FROM runs WHERE run_id = ?1 AND spool_expires_ns IS NOT NULL",
                    absl::StrCat(operation, ": drop spool"), {spool_id}));
  return dropped > 0;
}

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

// Runs `statement` with `params` for one row of a batch, then makes it
// ready for the next; `on_error(rc)` maps a failure with result code `rc`.
template <typename OnError>
absl::Status RunRow(SqliteStatement& statement, std::initializer_list<SqliteValue> params,
                    OnError&& on_error) {
  LP_RETURN_IF_ERROR(statement.BindAll(params));
  absl::Status ran = statement.Run();
  if (!ran.ok()) ran = on_error(statement.last_result_code(), ran);
  statement.Reset();
  return ran;
}

absl::Status RunRow(SqliteStatement& statement, std::initializer_list<SqliteValue> params) {
  return RunRow(statement, params, [](int, absl::Status status) { return status; });
}

// The serialised `records`.
template <typename Message>
absl::StatusOr<std::vector<std::string>> SerializeAll(const std::vector<Message>& records,
                                                      absl::string_view operation) {
  std::vector<std::string> blobs;
  blobs.reserve(records.size());
  for (const Message& record : records) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(record, operation));
    blobs.push_back(std::move(blob));
  }
  return blobs;
}

constexpr absl::string_view kInsertSample =
    "INSERT INTO run_samples (run_id, position, sample_id, sample) VALUES (?1, ?2, ?3, ?4)";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteRunStore>> SqliteRunStore::Create(const Options& options) {
  LP_ASSIGN_OR_RETURN(std::shared_ptr<SqlitePool> pool,
                      SqlitePool::Open(options.path, options.busy_timeout, options.read_connections,
                                       "SqliteRunStore::Create"));
  return std::make_unique<SqliteRunStore>(std::move(pool), options.record_cache_capacity);
}

SqliteRunStore::SqliteRunStore(std::shared_ptr<SqlitePool> pool, size_t record_cache_capacity)
    : pool_(std::move(pool)),
      records_(record_cache_capacity > 0 ? std::make_unique<RunRecordCache>(record_cache_capacity)
                                         : nullptr) {}

SqliteRunStore::~SqliteRunStore() = default;

absl::StatusOr<CreateRunResult> SqliteRunStore::CreateRun(const NewRun& run) {
  constexpr absl::string_view kOp = "CreateRun";
  // Serialise outside the transaction: it is the costly part for large runs.
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  LP_ASSIGN_OR_RETURN(std::vector<std::string> sample_blobs, SerializeAll(run.samples, kOp));
  const std::string run_id = run_records::NewRunId();
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<CreateRunResult> {
    LP_ASSIGN_OR_RETURN(std::optional<CreateRunResult> replay,
                        FindReplay(db, run.key.tenant, run.request_id, kOp));
    if (replay.has_value()) return *std::move(replay);
    const int64_t now = NowNanos();
    LP_ASSIGN_OR_RETURN(
        SqliteStatement insert_run,
        SqliteStatement::Prepare(db,
                                 "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, "
                                 "state, dataset_slug, request_id, record, create_time_ns, "
                                 "update_time_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                 "?10, ?10)",
                                 absl::StrCat(kOp, ": insert run"),
                                 {run_id, run.key.tenant, run.key.dataset, run.key.anno_key,
                                  record.backend(), record.state(), record.darwin().dataset_slug(),
                                  run.request_id, SqliteValue::Blob(record_blob), now}));
    if (absl::Status status = insert_run.Run(); !status.ok()) {
      if (insert_run.last_result_code() == SQLITE_CONSTRAINT_UNIQUE) {
        return RunKeyClash(run.key.anno_key);
      }
      return status;
    }
    LP_RETURN_IF_ERROR(RecordRequestId(db, run.key.tenant, run.request_id, run_id, kOp));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement insert_sample,
        SqliteStatement::Prepare(db, kInsertSample, absl::StrCat(kOp, ": insert sample")));
    for (size_t i = 0; i < run.samples.size(); ++i) {
      LP_RETURN_IF_ERROR(RunRow(insert_sample,
                                {run_id, static_cast<int64_t>(i), run.samples[i].id(),
                                 SqliteValue::Blob(sample_blobs[i])},
                                [&](int rc, absl::Status status) {
                                  if (!IsUniqueViolation(rc)) return status;
                                  return run_records::DuplicateSampleId(kOp, run.samples[i].id());
                                }));
    }
    return run_records::CreatedRun(run_id, run.key, record, now);
  });
}

absl::StatusOr<RunSpool> SqliteRunStore::BeginRunSpool(const RunKey& key,
                                                       const std::string& request_id,
                                                       const std::string& owner,
                                                       absl::Duration ttl) {
  constexpr absl::string_view kOp = "BeginRunSpool";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<RunSpool> {
    RunSpool spool;
    LP_ASSIGN_OR_RETURN(spool.replay, FindReplay(db, key.tenant, request_id, kOp));
    if (spool.replay.has_value()) return spool;
    LP_ASSIGN_OR_RETURN(std::optional<std::string> taken, FindRunId(db, key, kOp));
    if (taken.has_value()) return RunKeyClash(key.anno_key);
    spool.spool_id = run_records::NewRunId();
    const int64_t now = NowNanos();
    // No key yet: dataset '' (never a valid dataset) and the run id as anno_key.
    LP_RETURN_IF_ERROR(
        SqliteExecute(db,
                      "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, "
                      "dataset_slug, request_id, record, create_time_ns, update_time_ns, "
                      "spool_owner, spool_expires_ns) VALUES (?1, ?2, '', ?1, '', -1, '', '', "
                      "X'', ?3, ?3, ?4, ?5)",
                      absl::StrCat(kOp, ": insert pending run"),
                      {spool.spool_id, key.tenant, now, owner,
                       absl::ToUnixNanos(absl::FromUnixNanos(now) + ttl)})
            .status());
    return spool;
  });
}

absl::StatusOr<std::optional<SpoolConflict>> SqliteRunStore::AppendToRunSpool(
    const std::string& spool_id, int64_t first_position, const std::vector<Sample>& samples,
    const std::vector<std::string>& label_ids, absl::Duration ttl) {
  constexpr absl::string_view kOp = "AppendToRunSpool";
  using Result = absl::StatusOr<std::optional<SpoolConflict>>;
  if (auto repeat = run_records::RepeatInBatch(samples, label_ids)) return repeat;
  LP_ASSIGN_OR_RETURN(std::vector<std::string> blobs, SerializeAll(samples, kOp));
  // A conflict is returned as an error, so that the transaction rolls back,
  // and turned into the result below.
  std::optional<SpoolConflict> conflict;
  Result appended = InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> Result {
    LP_ASSIGN_OR_RETURN(int touched,
                        SqliteExecute(db,
                                      "UPDATE runs SET spool_expires_ns = ?2 WHERE "
                                      "run_id = ?1 AND spool_expires_ns IS NOT NULL",
                                      absl::StrCat(kOp, ": extend spool"),
                                      {spool_id, absl::ToUnixNanos(absl::Now() + ttl)}));
    if (touched == 0) return run_records::RunSpoolNotFound(spool_id);
    LP_ASSIGN_OR_RETURN(
        SqliteStatement insert_sample,
        SqliteStatement::Prepare(db, kInsertSample, absl::StrCat(kOp, ": insert sample")));
    for (size_t i = 0; i < samples.size(); ++i) {
      const int64_t position = first_position + static_cast<int64_t>(i);
      LP_RETURN_IF_ERROR(RunRow(
          insert_sample, {spool_id, position, samples[i].id(), SqliteValue::Blob(blobs[i])},
          [&](int rc, absl::Status status) {
            if (rc == SQLITE_CONSTRAINT_UNIQUE) {
              conflict = SpoolConflict{SpoolConflict::Kind::kSampleId, samples[i].id()};
              return absl::AbortedError("spool conflict");
            }
            if (rc != SQLITE_CONSTRAINT_PRIMARYKEY) return status;
            return common::InvalidArgument(
                "first_position", "INVALID_SAMPLE_POSITION",
                absl::StrCat(kOp, ": position ", position, " of spool ", spool_id, " is taken"));
          }));
    }
    LP_ASSIGN_OR_RETURN(SqliteStatement insert_label,
                        SqliteStatement::Prepare(
                            db, "INSERT INTO spooled_label_ids (run_id, label_id) VALUES (?1, ?2)",
                            absl::StrCat(kOp, ": insert label id")));
    for (const std::string& label_id : label_ids) {
      LP_RETURN_IF_ERROR(
          RunRow(insert_label, {spool_id, label_id}, [&](int rc, absl::Status status) {
            if (!IsUniqueViolation(rc)) return status;
            conflict = SpoolConflict{SpoolConflict::Kind::kLabelId, label_id};
            return absl::AbortedError("spool conflict");
          }));
    }
    return std::nullopt;
  });
  if (conflict.has_value()) return conflict;
  return appended;
}

absl::StatusOr<CreateRunResult> SqliteRunStore::CommitRunSpool(const std::string& spool_id,
                                                               const NewRun& run) {
  constexpr absl::string_view kOp = "CommitRunSpool";
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  // A key clash discards the spool (committed) and then returns the clash.
  bool key_clash = false;
  absl::StatusOr<CreateRunResult> committed =
      InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<CreateRunResult> {
        LP_ASSIGN_OR_RETURN(
            std::optional<std::string> pending,
            SelectText(db, "SELECT 1 FROM runs WHERE run_id = ?1 AND spool_expires_ns IS NOT NULL",
                       absl::StrCat(kOp, ": find spool"), {spool_id}));
        if (!pending.has_value()) return run_records::RunSpoolNotFound(spool_id);
        LP_ASSIGN_OR_RETURN(std::optional<CreateRunResult> replay,
                            FindReplay(db, run.key.tenant, run.request_id, kOp));
        if (replay.has_value()) {
          LP_RETURN_IF_ERROR(DropSpool(db, spool_id, kOp).status());
          return *std::move(replay);
        }
        const int64_t now = NowNanos();
        LP_ASSIGN_OR_RETURN(
            SqliteStatement update,
            SqliteStatement::Prepare(
                db,
                "UPDATE runs SET tenant = ?2, dataset = ?3, anno_key = ?4, backend = ?5, "
                "state = ?6, dataset_slug = ?7, request_id = ?8, record = ?9, "
                "create_time_ns = ?10, update_time_ns = ?10, revision = 1, spool_owner = NULL, "
                "spool_expires_ns = NULL WHERE run_id = ?1",
                absl::StrCat(kOp, ": make the run live"),
                {spool_id, run.key.tenant, run.key.dataset, run.key.anno_key, record.backend(),
                 record.state(), record.darwin().dataset_slug(), run.request_id,
                 SqliteValue::Blob(record_blob), now}));
        if (absl::Status status = update.Run(); !status.ok()) {
          if (update.last_result_code() != SQLITE_CONSTRAINT_UNIQUE) return status;
          // The failed statement changed nothing; the spool goes in this
          // transaction.
          key_clash = true;
          LP_RETURN_IF_ERROR(DropSpool(db, spool_id, kOp).status());
          return CreateRunResult();
        }
        LP_RETURN_IF_ERROR(RecordRequestId(db, run.key.tenant, run.request_id, spool_id, kOp));
        LP_RETURN_IF_ERROR(SqliteExecute(db, "DELETE FROM spooled_label_ids WHERE run_id = ?1",
                                         absl::StrCat(kOp, ": drop label ids"), {spool_id})
                               .status());
        return run_records::CreatedRun(spool_id, run.key, record, now);
      });
  if (committed.ok() && key_clash) return RunKeyClash(run.key.anno_key);
  return committed;
}

absl::Status SqliteRunStore::DiscardRunSpool(const std::string& spool_id) {
  constexpr absl::string_view kOp = "DiscardRunSpool";
  return InTransaction(*pool_, kWrite, kOp,
                       [&](sqlite3* db) { return DropSpool(db, spool_id, kOp).status(); });
}

absl::StatusOr<int64_t> SqliteRunStore::DiscardRunSpoolsOf(const std::string& owner) {
  constexpr absl::string_view kOp = "DiscardRunSpoolsOf";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<int64_t> {
    return SqliteExecute(db,
                         "DELETE FROM runs WHERE spool_owner = ?1 AND spool_expires_ns IS NOT NULL",
                         absl::StrCat(kOp, ": drop spools"), {owner});
  });
}

absl::StatusOr<int64_t> SqliteRunStore::DiscardExpiredRunSpools() {
  constexpr absl::string_view kOp = "DiscardExpiredRunSpools";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<int64_t> {
    return SqliteExecute(
        db, "DELETE FROM runs WHERE spool_expires_ns IS NOT NULL AND spool_expires_ns < ?1",
        absl::StrCat(kOp, ": drop spools"), {NowNanos()});
  });
}

absl::StatusOr<AnnotationRun> SqliteRunStore::GetRun(const RunKey& key) {
  constexpr absl::string_view kOp = "GetRun";
  return pool_->Read(SelectRunByKey(), absl::StrCat(kOp, ": read run"),
                     [&](SqliteStatement& select) -> absl::StatusOr<AnnotationRun> {
                       LP_RETURN_IF_ERROR(select.BindAll({key.tenant, key.dataset, key.anno_key}));
                       LP_ASSIGN_OR_RETURN(std::optional<AnnotationRun> run,
                                           ReadFirstRun(select, kOp, records_.get()));
                       if (!run.has_value()) return RunNotFound(key.anno_key);
                       return *std::move(run);
                     });
}

absl::StatusOr<ListRunsPage> SqliteRunStore::ListRuns(const ListRunsQuery& query) {
  constexpr absl::string_view kOp = "ListRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(query.page_size, kOp));
  return pool_->Read(
      SelectRunPage(), absl::StrCat(kOp, ": select runs"),
      [&](SqliteStatement& select) { return ListRunsWith(select, query, records_.get()); });
}

absl::StatusOr<AnnotationRun> SqliteRunStore::RenameRun(const RunKey& key,
                                                        const std::string& new_anno_key) {
  constexpr absl::string_view kOp = "RenameRun";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<AnnotationRun> {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id, FindRunId(db, key, kOp));
    if (!run_id.has_value()) return RunNotFound(key.anno_key);
    // Renaming onto itself is a clash too, as in FiftyOne.
    if (new_anno_key == key.anno_key) return RenameKeyClash(new_anno_key);
    LP_ASSIGN_OR_RETURN(SqliteStatement update,
                        SqliteStatement::Prepare(db,
                                                 "UPDATE runs SET anno_key = ?1, "
                                                 "update_time_ns = MAX(update_time_ns, ?2), "
                                                 "revision = revision + 1 WHERE run_id = ?3",
                                                 absl::StrCat(kOp, ": update run"),
                                                 {new_anno_key, NowNanos(), *run_id}));
    if (absl::Status status = update.Run(); !status.ok()) {
      if (update.last_result_code() == SQLITE_CONSTRAINT_UNIQUE) {
        return RenameKeyClash(new_anno_key);
      }
      return status;
    }
    return LoadRunById(db, *run_id, kOp);
  });
}

absl::Status SqliteRunStore::DeleteRun(const RunKey& key) {
  constexpr absl::string_view kOp = "DeleteRun";
  // Samples, the request id and the job state go with the run through
  // ON DELETE CASCADE.
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(
        int deleted,
        SqliteExecute(db, "DELETE FROM runs WHERE tenant = ?1 AND dataset = ?2 AND anno_key = ?3",
                      absl::StrCat(kOp, ": delete run"), {key.tenant, key.dataset, key.anno_key}));
    if (deleted == 0) return RunNotFound(key.anno_key);
    return absl::OkStatus();
  });
}

absl::StatusOr<SampleIdPage> SqliteRunStore::ListRunSamples(const RunKey& key,
                                                            int64_t start_position, int page_size) {
  constexpr absl::string_view kOp = "ListRunSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(page_size, kOp));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  return InTransaction(*pool_, kRead, kOp, [&](sqlite3* db) -> absl::StatusOr<SampleIdPage> {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id, FindRunId(db, key, kOp));
    if (!run_id.has_value()) return RunNotFound(key.anno_key);
    // One extra row tells whether another page exists.
    LP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        SqliteStatement::Prepare(db,
                                 "SELECT position, sample_id FROM run_samples WHERE run_id = ?1 "
                                 "AND position >= ?2 ORDER BY position LIMIT ?3",
                                 absl::StrCat(kOp, ": select samples"),
                                 {*run_id, start_position, static_cast<int64_t>(page_size) + 1}));
    SampleIdPage page;
    LP_RETURN_IF_ERROR(ForEachRow(select, [&] {
      if (static_cast<int>(page.sample_ids.size()) == page_size) {
        page.next_start_position = select.ColumnInt64(0);
      } else {
        page.sample_ids.push_back(select.ColumnText(1));
      }
      return absl::OkStatus();
    }));
    return page;
  });
}

absl::StatusOr<AnnotationRun> SqliteRunStore::GetRunByUid(const std::string& run_id) {
  constexpr absl::string_view kOp = "GetRunByUid";
  return pool_->Read(SelectRunById(), absl::StrCat(kOp, ": read run"),
                     [&](SqliteStatement& select) -> absl::StatusOr<AnnotationRun> {
                       LP_RETURN_IF_ERROR(select.BindAll({run_id}));
                       LP_ASSIGN_OR_RETURN(std::optional<AnnotationRun> run,
                                           ReadFirstRun(select, kOp, records_.get()));
                       if (!run.has_value()) return RunUidNotFound(run_id);
                       return *std::move(run);
                     });
}

absl::StatusOr<AnnotationRun> SqliteRunStore::UpdateRun(const std::string& run_id,
                                                        const RunMutator& mutate) {
  constexpr absl::string_view kOp = "UpdateRun";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<AnnotationRun> {
    LP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        SqliteStatement::Prepare(db, SelectRunById(), absl::StrCat(kOp, ": read run"), {run_id}));
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
    LP_RETURN_IF_ERROR(
        SqliteExecute(db,
                      "UPDATE runs SET record = ?1, backend = ?2, state = ?3, "
                      "dataset_slug = ?4, revision = ?5, update_time_ns = ?6 "
                      "WHERE run_id = ?7",
                      absl::StrCat(kOp, ": update run"),
                      {SqliteValue::Blob(record_blob), run.backend(), run.state(),
                       run.darwin().dataset_slug(), owned.revision, owned.update_time_ns, run_id})
            .status());
    FillOwnedFields(owned, run);
    return run;
  });
}

absl::StatusOr<std::vector<Sample>> SqliteRunStore::LoadSamples(const std::string& run_id,
                                                                int64_t start_position,
                                                                int max_count) {
  constexpr absl::string_view kOp = "LoadSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  return LoadRunRecords<Sample>(*pool_,
                                "SELECT sample FROM run_samples WHERE run_id = ?1 AND "
                                "position >= ?2 ORDER BY position LIMIT ?3",
                                {run_id, start_position, max_count}, run_id, kOp);
}

absl::Status SqliteRunStore::StageSamples(const std::string& run_id, const std::string& stage_id,
                                          const std::vector<std::pair<int64_t, Sample>>& samples) {
  constexpr absl::string_view kOp = "StageSamples";
  std::vector<std::string> blobs;
  blobs.reserve(samples.size());
  for (const auto& [position, sample] : samples) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(sample, kOp));
    blobs.push_back(std::move(blob));
  }
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement upsert,
        SqliteStatement::Prepare(db,
                                 "INSERT INTO staged_samples (run_id, stage_id, position, sample) "
                                 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, stage_id, "
                                 "position) DO UPDATE SET sample = excluded.sample",
                                 absl::StrCat(kOp, ": upsert staged sample")));
    for (size_t i = 0; i < samples.size(); ++i) {
      LP_RETURN_IF_ERROR(
          RunRow(upsert, {run_id, stage_id, samples[i].first, SqliteValue::Blob(blobs[i])}));
    }
    return absl::OkStatus();
  });
}

absl::Status SqliteRunStore::CommitStagedSamples(const std::string& run_id,
                                                 const std::string& stage_id) {
  constexpr absl::string_view kOp = "CommitStagedSamples";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement select,
        SqliteStatement::Prepare(db,
                                 "SELECT s.position, s.sample, r.sample_id FROM staged_samples s "
                                 "LEFT JOIN run_samples r ON r.run_id = s.run_id AND "
                                 "r.position = s.position WHERE s.run_id = ?1 AND "
                                 "s.stage_id = ?2 ORDER BY s.position",
                                 absl::StrCat(kOp, ": select staged samples"), {run_id, stage_id}));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement update,
        SqliteStatement::Prepare(db,
                                 "UPDATE run_samples SET sample = ?3 WHERE run_id = ?1 AND "
                                 "position = ?2",
                                 absl::StrCat(kOp, ": update sample")));
    LP_RETURN_IF_ERROR(ForEachRow(select, [&]() -> absl::Status {
      const int64_t position = select.ColumnInt64(0);
      const std::string blob(select.ColumnBlob(1));
      const std::string stored_id = select.ColumnText(2);
      LP_ASSIGN_OR_RETURN(
          Sample sample,
          ParseRecord<Sample>(blob, kOp, absl::StrCat("staged sample at position ", position)));
      if (stored_id.empty() || sample.id() != stored_id) {
        return run_records::StagedSampleMismatch(kOp, run_id, sample.id(), position);
      }
      return RunRow(update, {run_id, position, SqliteValue::Blob(blob)});
    }));
    return DropStage(db, run_id, stage_id, kOp);
  });
}

absl::Status SqliteRunStore::DiscardStagedSamples(const std::string& run_id,
                                                  const std::string& stage_id) {
  constexpr absl::string_view kOp = "DiscardStagedSamples";
  return InTransaction(*pool_, kWrite, kOp,
                       [&](sqlite3* db) { return DropStage(db, run_id, stage_id, kOp); });
}

absl::Status SqliteRunStore::SaveSampleProgress(const std::string& run_id,
                                                const std::vector<SampleProgress>& progress) {
  constexpr absl::string_view kOp = "SaveSampleProgress";
  LP_ASSIGN_OR_RETURN(std::vector<std::string> blobs, SerializeAll(progress, kOp));
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    // Positions are 0..n-1, so the highest one (an index lookup) gives n.
    LP_ASSIGN_OR_RETURN(
        SqliteStatement count,
        SqliteStatement::Prepare(
            db, "SELECT COALESCE(MAX(position), -1) + 1 FROM run_samples WHERE run_id = ?1",
            absl::StrCat(kOp, ": count samples"), {run_id}));
    LP_ASSIGN_OR_RETURN(bool counted, count.Step());
    const int64_t sample_count = counted ? count.ColumnInt64(0) : 0;
    LP_ASSIGN_OR_RETURN(
        SqliteStatement upsert,
        SqliteStatement::Prepare(db,
                                 "INSERT INTO sample_progress (run_id, position, record) "
                                 "VALUES (?1, ?2, ?3) ON CONFLICT (run_id, position) "
                                 "DO UPDATE SET record = excluded.record",
                                 absl::StrCat(kOp, ": upsert progress")));
    for (size_t i = 0; i < progress.size(); ++i) {
      const int64_t position = progress[i].position();
      LP_RETURN_IF_ERROR(run_records::CheckProgressPosition(kOp, run_id, position, sample_count));
      LP_RETURN_IF_ERROR(RunRow(upsert, {run_id, position, SqliteValue::Blob(blobs[i])}));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SampleProgress>> SqliteRunStore::LoadSampleProgressRange(
    const std::string& run_id, int64_t start_position, int max_count) {
  constexpr absl::string_view kOp = "LoadSampleProgressRange";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  return LoadRunRecords<SampleProgress>(*pool_,
                                        "SELECT record FROM sample_progress WHERE run_id = ?1 "
                                        "AND position >= ?2 AND position < ?3 ORDER BY position",
                                        {run_id, start_position, start_position + max_count},
                                        run_id, kOp);
}

absl::Status SqliteRunStore::SaveAnnotationLinks(const std::string& run_id,
                                                 const std::vector<AnnotationLink>& links) {
  constexpr absl::string_view kOp = "SaveAnnotationLinks";
  for (const AnnotationLink& link : links) {
    LP_RETURN_IF_ERROR(run_records::CheckAnnotationId(link, run_id, kOp));
  }
  LP_ASSIGN_OR_RETURN(std::vector<std::string> blobs, SerializeAll(links, kOp));
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement upsert,
        SqliteStatement::Prepare(db,
                                 "INSERT INTO annotation_links (run_id, annotation_id, record, "
                                 "item_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (run_id, "
                                 "annotation_id) DO UPDATE SET record = excluded.record, "
                                 "item_id = excluded.item_id",
                                 absl::StrCat(kOp, ": upsert link")));
    for (size_t i = 0; i < links.size(); ++i) {
      LP_RETURN_IF_ERROR(RunRow(upsert, {run_id, links[i].annotation_id(),
                                         SqliteValue::Blob(blobs[i]), links[i].item_id()}));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AnnotationLink>> SqliteRunStore::LoadAnnotationLinksForItem(
    const std::string& run_id, const std::string& item_id) {
  constexpr absl::string_view kOp = "LoadAnnotationLinksForItem";
  LP_ASSIGN_OR_RETURN(std::vector<AnnotationLink> links,
                      LoadRunRecords<AnnotationLink>(*pool_,
                                                     "SELECT record FROM annotation_links WHERE "
                                                     "run_id = ?1 AND item_id IN (?2, '')",
                                                     {run_id, item_id}, run_id, kOp));
  // Rows from before migration 4 carry no item id column: filter here.
  std::erase_if(links, [&](const AnnotationLink& link) { return link.item_id() != item_id; });
  return links;
}

absl::StatusOr<std::vector<AnnotationLink>> SqliteRunStore::LoadAnnotationLinks(
    const std::string& run_id) {
  return LoadRunRecords<AnnotationLink>(
      *pool_, "SELECT record FROM annotation_links WHERE run_id = ?1 ORDER BY annotation_id",
      {run_id}, run_id, "LoadAnnotationLinks");
}

absl::Status SqliteRunStore::SaveBackendState(const std::string& run_id,
                                              const google::protobuf::Any& state) {
  constexpr absl::string_view kOp = "SaveBackendState";
  LP_RETURN_IF_ERROR(CheckBackendState(state, run_id, kOp));
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    return SqliteExecute(db,
                         "INSERT INTO backend_state (run_id, type_url, record) "
                         "VALUES (?1, ?2, ?3) ON CONFLICT (run_id) DO UPDATE SET "
                         "type_url = excluded.type_url, record = excluded.record",
                         absl::StrCat(kOp, ": upsert state"),
                         {run_id, state.type_url(), SqliteValue::Blob(state.value())})
        .status();
  });
}

absl::StatusOr<google::protobuf::Any> SqliteRunStore::LoadBackendState(const std::string& run_id) {
  constexpr absl::string_view kOp = "LoadBackendState";
  return InTransaction(
      *pool_, kRead, kOp, [&](sqlite3* db) -> absl::StatusOr<google::protobuf::Any> {
        LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
        LP_ASSIGN_OR_RETURN(SqliteStatement select,
                            SqliteStatement::Prepare(
                                db, "SELECT type_url, record FROM backend_state WHERE run_id = ?1",
                                absl::StrCat(kOp, ": select state"), {run_id}));
        LP_ASSIGN_OR_RETURN(bool found, select.Step());
        google::protobuf::Any state;
        if (found) {
          state.set_type_url(select.ColumnText(0));
          state.set_value(std::string(select.ColumnBlob(1)));
        }
        return state;
      });
}

absl::StatusOr<bool> SqliteRunStore::AcquireLease(const std::string& run_id,
                                                  const std::string& owner, absl::Duration ttl) {
  constexpr absl::string_view kOp = "AcquireLease";
  LP_RETURN_IF_ERROR(CheckLeaseRequest(owner, ttl, kOp));
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<bool> {
    const absl::Time now = absl::Now();
    // One conditional UPDATE under the write lock: the check and the take
    // cannot be separated by another writer, in this process or another.
    // ToUnixNanos saturates, so a huge ttl means "until released".
    LP_ASSIGN_OR_RETURN(
        int taken,
        SqliteExecute(db,
                      "UPDATE runs SET lease_owner = ?2, lease_expires_ns = ?3 "
                      "WHERE run_id = ?1 AND (lease_owner IS NULL OR "
                      "lease_owner = ?2 OR lease_expires_ns < ?4)",
                      absl::StrCat(kOp, ": take lease"),
                      {run_id, owner, absl::ToUnixNanos(now + ttl), absl::ToUnixNanos(now)}));
    if (taken == 0) LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
    return taken > 0;
  });
}

absl::Status SqliteRunStore::ReleaseLease(const std::string& run_id, const std::string& owner) {
  constexpr absl::string_view kOp = "ReleaseLease";
  return InTransaction(*pool_, kWrite, kOp, [&](sqlite3* db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(int released,
                        SqliteExecute(db,
                                      "UPDATE runs SET lease_owner = NULL, lease_expires_ns = NULL "
                                      "WHERE run_id = ?1 AND lease_owner = ?2",
                                      absl::StrCat(kOp, ": free lease"), {run_id, owner}));
    if (released == 0) return CheckRunExists(db, run_id, kOp);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ClaimableRun>> SqliteRunStore::ListClaimableRuns(
    int max_count, const std::string& owner) {
  constexpr absl::string_view kOp = "ListClaimableRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  return InTransaction(
      *pool_, kRead, kOp, [&](sqlite3* db) -> absl::StatusOr<std::vector<ClaimableRun>> {
        LP_ASSIGN_OR_RETURN(
            SqliteStatement select,
            SqliteStatement::Prepare(
                db,
                "SELECT run_id, tenant, dataset, anno_key FROM ("
                "SELECT run_id, tenant, dataset, anno_key, create_time_ns, "
                "ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY create_time_ns, run_id) "
                "AS tenant_rank FROM runs WHERE state IN (1, 2) "
                "AND (lease_owner IS NULL OR lease_expires_ns < ?1 OR lease_owner = ?3)) "
                "ORDER BY tenant_rank, create_time_ns, run_id LIMIT ?2",
                absl::StrCat(kOp, ": select runs"), {NowNanos(), max_count, owner}));
        std::vector<ClaimableRun> runs;
        LP_RETURN_IF_ERROR(ForEachRow(select, [&] {
          runs.push_back(ClaimableRun{
              .run_id = select.ColumnText(0),
              .key = RunKey{select.ColumnText(1), select.ColumnText(2), select.ColumnText(3)}});
          return absl::OkStatus();
        }));
        return runs;
      });
}

}  // namespace labelport::store
