// Internal to the store layer: a connection to the SQLite database of a
// SqliteRunStore, for the store components that live beside it
// (SqliteReplicaDirectory, SqliteRunStateCounter). Opened like the run
// store's own (extended result codes, busy timeout, WAL, foreign keys) and
// with every migration applied, so a component works on a fresh file too.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_CONNECTION_H_
#define LABELPORT_SERVICE_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labelport::store {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteConnection = std::unique_ptr<sqlite3, SqliteCloser>;

// Opens `path` (not ":memory:": components share the file with the store).
// INVALID_ARGUMENT for an empty or in-memory path; UNAVAILABLE when the file
// cannot be opened; FAILED_PRECONDITION for a schema newer than this build.
// Errors start with `component` and the path.
absl::StatusOr<SqliteConnection> OpenSqliteConnection(const std::string& path,
                                                      absl::Duration busy_timeout,
                                                      absl::string_view component);

// Runs "PRAGMA journal_mode = WAL" and returns the mode the database reports
// ("wal"; "memory" for an in-memory database). Switching a new file to WAL
// needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without
// its busy handler, when connections opening the same new file collide:
// this retries with backoff until `busy_timeout` has passed, then returns
// that error.
absl::StatusOr<std::string> SwitchToWalJournal(sqlite3* db, absl::Duration busy_timeout);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_CONNECTION_H_
