#include "service/store/sqlite_connection.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/store/sqlite_migrations.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {

absl::StatusOr<SqliteConnection> OpenSqliteConnection(const std::string& path,
                                                      absl::Duration busy_timeout,
                                                      absl::string_view component) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(
        absl::StrCat(component, ": needs the database file of the run store, got '", path, "'"));
  }
  const std::string prefix = absl::StrCat(component, "('", path, "'): ");
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteConnection db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat(prefix, "cannot open: ", raw != nullptr ? sqlite3_errmsg(raw) : "no memory"));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  absl::StatusOr<std::string> journal_mode = SwitchToWalJournal(db.get(), busy_timeout);
  if (!journal_mode.ok()) {
    return absl::Status(journal_mode.status().code(),
                        absl::StrCat(prefix, journal_mode.status().message()));
  }
  for (absl::string_view pragma : {"PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"}) {
    absl::Status status = SqliteExec(db.get(), pragma, pragma);
    if (!status.ok()) return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
  }
  absl::Status migrated = ApplySqliteMigrations(db.get(), SqliteMigrations());
  if (!migrated.ok()) {
    return absl::Status(migrated.code(), absl::StrCat(prefix, migrated.message()));
  }
  return db;
}

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

}  // namespace labelport::store
