#include "service/store/sqlite_run_store.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/store/sqlite_migrations.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {
namespace {

using ::labelport::v1::AnnotationRun;

// Columns read by ReadRun, in this order.
constexpr absl::string_view kSelectRun =
    "SELECT run_id, dataset, anno_key, create_time_ns, update_time_ns, record "
    "FROM runs ";

absl::Status RunNotFound(absl::string_view anno_key) {
  return common::NotFound(
      "name", "RUN_NOT_FOUND",
      absl::StrCat("Dataset has no annotation run key '", anno_key, "'"));
}

// Keeps the code and payloads of `status`, prefixes its message.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status result(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&result](absl::string_view type_url, const absl::Cord& payload) {
        result.SetPayload(type_url, payload);
      });
  return result;
}

int64_t NowNanos() { return absl::ToUnixNanos(absl::Now()); }

void SetTimestamp(int64_t unix_nanos, google::protobuf::Timestamp* timestamp) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t seconds = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    seconds -= 1;
    nanos += kNanosPerSecond;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(nanos));
}

// The store-owned fields live in columns, not in the blob, so that a rename
// touches one row and the blob never disagrees with the key.
void ClearOwnedFields(AnnotationRun& run) {
  run.clear_name();
  run.clear_dataset();
  run.clear_anno_key();
  run.clear_create_time();
  run.clear_update_time();
}

void FillOwnedFields(absl::string_view dataset, absl::string_view anno_key,
                     int64_t create_time_ns, int64_t update_time_ns,
                     AnnotationRun& run) {
  run.set_name(absl::StrCat("datasets/", dataset, "/runs/", anno_key));
  run.set_dataset(std::string(dataset));
  run.set_anno_key(std::string(anno_key));
  SetTimestamp(create_time_ns, run.mutable_create_time());
  SetTimestamp(update_time_ns, run.mutable_update_time());
}

// Reads the current row of a statement that starts with kSelectRun.
absl::StatusOr<AnnotationRun> ReadRun(const SqliteStatement& row,
                                      absl::string_view operation) {
  AnnotationRun run;
  absl::string_view blob = row.ColumnBlob(5);
  if (!run.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::InternalError(
        absl::StrCat(operation, ": the stored record of run ",
                     row.ColumnText(0), " cannot be parsed"));
  }
  FillOwnedFields(row.ColumnText(1), row.ColumnText(2), row.ColumnInt64(3),
                  row.ColumnInt64(4), run);
  return run;
}

absl::StatusOr<AnnotationRun> LoadRunById(sqlite3* db,
                                          const std::string& run_id,
                                          absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(SqliteStatement select,
                      SqliteStatement::Prepare(
                          db, absl::StrCat(kSelectRun, "WHERE run_id = ?1"),
                          absl::StrCat(operation, ": read run")));
  LP_RETURN_IF_ERROR(select.BindText(1, run_id));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) {
    return absl::InternalError(absl::StrCat(operation, ": run ", run_id,
                                            " vanished inside a transaction"));
  }
  return ReadRun(select, operation);
}

absl::StatusOr<std::optional<std::string>> FindRunId(
    sqlite3* db, const RunKey& key, absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
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

  absl::Status BeginRead(absl::string_view operation) {
    return Begin("BEGIN", operation);
  }
  absl::Status BeginWrite(absl::string_view operation) {
    return Begin("BEGIN IMMEDIATE", operation);
  }
  absl::Status Commit(absl::string_view operation) {
    LP_RETURN_IF_ERROR(
        SqliteExec(db_, "COMMIT", absl::StrCat(operation, ": commit")));
    open_ = false;
    return absl::OkStatus();
  }

 private:
  absl::Status Begin(absl::string_view sql, absl::string_view operation) {
    LP_RETURN_IF_ERROR(
        SqliteExec(db_, sql, absl::StrCat(operation, ": begin transaction")));
    open_ = true;
    return absl::OkStatus();
  }

  sqlite3* const db_;
  bool open_ = false;
};

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

absl::Status CheckPageSize(int page_size, absl::string_view operation) {
  if (page_size < 1) {
    return common::InvalidArgument(
        "page_size", "INVALID_PAGE_SIZE",
        absl::StrCat(operation, ": page_size must be at least 1, got ",
                     page_size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> QueryPragma(sqlite3* db, absl::string_view pragma) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement statement,
      SqliteStatement::Prepare(db, absl::StrCat("PRAGMA ", pragma),
                               absl::StrCat("set PRAGMA ", pragma)));
  LP_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.ColumnText(0) : std::string();
}

absl::Status Configure(sqlite3* db, const SqliteRunStore::Options& options) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  LP_ASSIGN_OR_RETURN(std::string journal_mode,
                      QueryPragma(db, "journal_mode = WAL"));
  // An in-memory database has no WAL; it reports "memory".
  if (journal_mode != "wal" && options.path != ":memory:") {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot switch to WAL journal mode (got '", journal_mode, "')"));
  }
  LP_RETURN_IF_ERROR(
      SqliteExec(db, "PRAGMA foreign_keys = ON", "set PRAGMA foreign_keys"));
  LP_RETURN_IF_ERROR(
      SqliteExec(db, "PRAGMA synchronous = NORMAL", "set PRAGMA synchronous"));
  LP_ASSIGN_OR_RETURN(std::string foreign_keys,
                      QueryPragma(db, "foreign_keys"));
  if (foreign_keys != "1") {
    return absl::FailedPreconditionError(
        "this SQLite build does not enforce foreign keys");
  }
  return ApplySqliteMigrations(db, SqliteMigrations());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteRunStore>> SqliteRunStore::Create(
    Options options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        "SqliteRunStore::Create: the database path is empty");
  }
  if (options.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "SqliteRunStore::Create: busy_timeout is negative");
  }
  const std::string prefix =
      absl::StrCat("SqliteRunStore::Create('", options.path, "'): ");
  sqlite3* db = nullptr;
  // SQLITE_OPEN_NOMUTEX: the store's own mutex serialises the connection.
  int rc = sqlite3_open_v2(
      options.path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
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
  return std::unique_ptr<SqliteRunStore>(new SqliteRunStore(db));
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
  std::string record_blob;
  if (!record.SerializeToString(&record_blob)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": the run record cannot be serialised"));
  }
  std::vector<std::string> sample_blobs(run.samples.size());
  for (size_t i = 0; i < run.samples.size(); ++i) {
    if (!run.samples[i].SerializeToString(&sample_blobs[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          kOp, ": sample '", run.samples[i].id(), "' cannot be serialised"));
    }
  }

  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));

  if (!run.request_id.empty()) {
    LP_ASSIGN_OR_RETURN(
        SqliteStatement find,
        SqliteStatement::Prepare(db_,
                                 "SELECT run_id FROM request_ids WHERE "
                                 "tenant = ?1 AND request_id = ?2",
                                 absl::StrCat(kOp, ": find request id")));
    LP_RETURN_IF_ERROR(find.BindText(1, run.key.tenant));
    LP_RETURN_IF_ERROR(find.BindText(2, run.request_id));
    LP_ASSIGN_OR_RETURN(bool replay, find.Step());
    if (replay) {
      CreateRunResult result;
      result.run_id = find.ColumnText(0);
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
      SqliteStatement::Prepare(
          db_,
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
      return common::AlreadyExists(
          "header.anno_key", "RUN_ALREADY_EXISTS",
          absl::StrCat("Annotation run with key '", run.key.anno_key,
                       "' already exists"));
    }
    return status;
  }

  if (!run.request_id.empty()) {
    LP_ASSIGN_OR_RETURN(
        SqliteStatement insert_request,
        SqliteStatement::Prepare(db_,
                                 "INSERT INTO request_ids (tenant, "
                                 "request_id, run_id) VALUES (?1, ?2, ?3)",
                                 absl::StrCat(kOp, ": record request id")));
    LP_RETURN_IF_ERROR(insert_request.BindText(1, run.key.tenant));
    LP_RETURN_IF_ERROR(insert_request.BindText(2, run.request_id));
    LP_RETURN_IF_ERROR(insert_request.BindText(3, run_id));
    LP_RETURN_IF_ERROR(insert_request.Run());
  }

  LP_ASSIGN_OR_RETURN(
      SqliteStatement insert_sample,
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
        return common::InvalidArgument(
            "samples", "DUPLICATE_SAMPLE_ID",
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
  FillOwnedFields(run.key.dataset, run.key.anno_key, now, now, result.run);
  return result;
}

absl::StatusOr<AnnotationRun> SqliteRunStore::GetRun(const RunKey& key) {
  constexpr absl::string_view kOp = "GetRun";
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(
          db_,
          absl::StrCat(kSelectRun,
                       "WHERE tenant = ?1 AND dataset = ?2 AND anno_key = ?3"),
          absl::StrCat(kOp, ": read run")));
  LP_RETURN_IF_ERROR(select.BindText(1, key.tenant));
  LP_RETURN_IF_ERROR(select.BindText(2, key.dataset));
  LP_RETURN_IF_ERROR(select.BindText(3, key.anno_key));
  LP_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return RunNotFound(key.anno_key);
  return ReadRun(select, kOp);
}

absl::StatusOr<ListRunsPage> SqliteRunStore::ListRuns(
    const ListRunsQuery& query) {
  constexpr absl::string_view kOp = "ListRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(query.page_size, kOp));
  absl::MutexLock lock(&mu_);
  // Empty filters are bound too, so one statement text serves every query
  // and the (tenant, dataset, anno_key) index drives the scan.
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(
          db_,
          absl::StrCat(kSelectRun,
                       "WHERE tenant = ?1 AND dataset = ?2 AND anno_key > ?3 "
                       "AND (?4 = '' OR backend = ?4) "
                       "AND (?5 = 0 OR state = ?5) "
                       "AND (?6 = '' OR dataset_slug = ?6) "
                       "ORDER BY anno_key LIMIT ?7"),
          absl::StrCat(kOp, ": select runs")));
  LP_RETURN_IF_ERROR(select.BindText(1, query.tenant));
  LP_RETURN_IF_ERROR(select.BindText(2, query.dataset));
  LP_RETURN_IF_ERROR(select.BindText(3, query.after_anno_key));
  LP_RETURN_IF_ERROR(select.BindText(4, query.backend));
  LP_RETURN_IF_ERROR(select.BindInt64(5, query.state));
  LP_RETURN_IF_ERROR(select.BindText(6, query.dataset_slug));
  // One extra row tells whether another page exists.
  LP_RETURN_IF_ERROR(
      select.BindInt64(7, static_cast<int64_t>(query.page_size) + 1));
  ListRunsPage page;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<int>(page.runs.size()) == query.page_size) {
      page.next_after_anno_key = page.runs.back().anno_key();
      break;
    }
    LP_ASSIGN_OR_RETURN(AnnotationRun run, ReadRun(select, kOp));
    page.runs.push_back(std::move(run));
  }
  return page;
}

absl::StatusOr<AnnotationRun> SqliteRunStore::RenameRun(
    const RunKey& key, const std::string& new_anno_key) {
  constexpr absl::string_view kOp = "RenameRun";
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginWrite(kOp));
  LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id,
                      FindRunId(db_, key, kOp));
  if (!run_id.has_value()) return RunNotFound(key.anno_key);
  auto clash = [&new_anno_key] {
    return common::AlreadyExists(
        "new_anno_key", "RUN_ALREADY_EXISTS",
        absl::StrCat("A annotation run with key '", new_anno_key,
                     "' already exists"));
  };
  // Renaming onto itself is a clash too, as in FiftyOne.
  if (new_anno_key == key.anno_key) return clash();
  LP_ASSIGN_OR_RETURN(
      SqliteStatement update,
      SqliteStatement::Prepare(db_,
                               "UPDATE runs SET anno_key = ?1, "
                               "update_time_ns = ?2 WHERE run_id = ?3",
                               absl::StrCat(kOp, ": update run")));
  LP_RETURN_IF_ERROR(update.BindText(1, new_anno_key));
  LP_RETURN_IF_ERROR(update.BindInt64(2, NowNanos()));
  LP_RETURN_IF_ERROR(update.BindText(3, *run_id));
  if (absl::Status status = update.Run(); !status.ok()) {
    if (update.last_result_code() == SQLITE_CONSTRAINT_UNIQUE) return clash();
    return status;
  }
  LP_ASSIGN_OR_RETURN(AnnotationRun run, LoadRunById(db_, *run_id, kOp));
  LP_RETURN_IF_ERROR(transaction.Commit(kOp));
  return run;
}

absl::Status SqliteRunStore::DeleteRun(const RunKey& key) {
  constexpr absl::string_view kOp = "DeleteRun";
  absl::MutexLock lock(&mu_);
  // Samples and the request id go with the run through ON DELETE CASCADE,
  // inside the one implicit transaction of this statement.
  LP_ASSIGN_OR_RETURN(
      SqliteStatement remove,
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

absl::StatusOr<SampleIdPage> SqliteRunStore::ListRunSamples(
    const RunKey& key, int64_t start_position, int page_size) {
  constexpr absl::string_view kOp = "ListRunSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(page_size, kOp));
  if (start_position < 0) {
    return common::InvalidArgument(
        "start_position", "INVALID_START_POSITION",
        absl::StrCat(kOp, ": start_position must not be negative, got ",
                     start_position));
  }
  absl::MutexLock lock(&mu_);
  Transaction transaction(db_);
  LP_RETURN_IF_ERROR(transaction.BeginRead(kOp));
  LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id,
                      FindRunId(db_, key, kOp));
  if (!run_id.has_value()) return RunNotFound(key.anno_key);
  LP_ASSIGN_OR_RETURN(
      SqliteStatement select,
      SqliteStatement::Prepare(
          db_,
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

}  // namespace labelport::store
