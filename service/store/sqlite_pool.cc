#include "service/store/sqlite_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/status_macros.h"
#include "service/store/run_records.h"
#include "service/store/sqlite_migrations.h"

namespace labelport::store {
namespace {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteConnection = std::unique_ptr<sqlite3, SqliteCloser>;

absl::StatusOr<std::string> QueryPragma(sqlite3* db, absl::string_view pragma) {
  LP_ASSIGN_OR_RETURN(SqliteStatement statement,
                      SqliteStatement::Prepare(db, absl::StrCat("PRAGMA ", pragma),
                                               absl::StrCat("set PRAGMA ", pragma)));
  LP_ASSIGN_OR_RETURN(bool row, statement.Step());
  return row ? statement.ColumnText(0) : std::string();
}

// Runs "PRAGMA journal_mode = WAL" and returns the mode the database reports
// ("wal"; "memory" for an in-memory database). Switching a new file to WAL
// needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without
// its busy handler, when connections opening the same new file collide:
// this retries with backoff until `busy_timeout` has passed.
absl::StatusOr<std::string> SwitchToWalJournal(sqlite3* db, absl::Duration busy_timeout) {
  constexpr absl::string_view kSql = "PRAGMA journal_mode = WAL";
  const absl::Time deadline = absl::Now() + busy_timeout;
  absl::Duration pause = absl::Milliseconds(1);
  for (;;) {
    absl::StatusOr<SqliteStatement> statement =
        SqliteStatement::Prepare(db, kSql, "set PRAGMA journal_mode = WAL");
    absl::StatusOr<bool> row = statement.ok() ? statement->Step() : statement.status();
    if (row.ok()) return *row ? statement->ColumnText(0) : std::string();
    const int rc = sqlite3_extended_errcode(db) & 0xff;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || absl::Now() >= deadline) return row.status();
    absl::SleepFor(pause);
    pause = std::min(2 * pause, absl::Milliseconds(50));
  }
}

absl::Status Configure(sqlite3* db, const std::string& path, absl::Duration busy_timeout) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  LP_ASSIGN_OR_RETURN(std::string journal_mode, SwitchToWalJournal(db, busy_timeout));
  // An in-memory database has no WAL; it reports "memory".
  if (journal_mode != "wal" && path != ":memory:") {
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

absl::StatusOr<std::shared_ptr<SqlitePool>> SqlitePool::Open(const std::string& path,
                                                             absl::Duration busy_timeout,
                                                             int read_connections,
                                                             absl::string_view component) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(component, ": the database path is empty"));
  }
  if (busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(component, ": busy_timeout is negative"));
  }
  const std::string prefix = absl::StrCat(component, "('", path, "'): ");
  sqlite3* raw = nullptr;
  // SQLITE_OPEN_NOMUTEX: the pool's own mutex serialises the connection.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteConnection db(raw);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(raw, rc, "open");
    if (status.code() == absl::StatusCode::kInternal) {
      status = absl::UnavailableError(status.message());
    }
    return run_records::Prefixed(status, prefix);
  }
  if (absl::Status status = Configure(db.get(), path, busy_timeout); !status.ok()) {
    return run_records::Prefixed(status, prefix);
  }
  std::unique_ptr<SqliteReadConnections> readers;
  if (read_connections > 0 && path != ":memory:") {
    absl::StatusOr<std::unique_ptr<SqliteReadConnections>> opened =
        SqliteReadConnections::Open(path, read_connections, busy_timeout);
    if (!opened.ok()) return run_records::Prefixed(opened.status(), prefix);
    readers = *std::move(opened);
  }
  const int opened = 1 + (readers != nullptr ? read_connections : 0);
  return std::shared_ptr<SqlitePool>(new SqlitePool(db.release(), std::move(readers), opened));
}

SqlitePool::~SqlitePool() { sqlite3_close_v2(db_); }

absl::StatusOr<SqlitePool::Lease> SqlitePool::Acquire(absl::string_view /*operation*/)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  mu_.Lock();
  return Lease(&mu_, db_);
}

absl::Status SqlitePool::Begin(Lease& lease, TransactionMode mode, absl::string_view operation) {
  return SqliteExec(lease.connection(),
                    mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN",
                    absl::StrCat(operation, ": begin transaction"));
}

void SqlitePool::Rollback(Lease& lease, absl::string_view /*operation*/) {
  sqlite3_exec(lease.connection(), "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status SqlitePool::Commit(Lease& lease, absl::string_view operation) {
  absl::Status committed =
      SqliteExec(lease.connection(), "COMMIT", absl::StrCat(operation, ": commit"));
  // A failed COMMIT (SQLITE_BUSY) leaves the transaction open: end it, so
  // that the next transaction on this connection can begin.
  if (!committed.ok() && sqlite3_get_autocommit(lease.connection()) == 0)
    Rollback(lease, operation);
  return committed;
}

}  // namespace labelport::store
