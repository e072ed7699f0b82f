// Versioned schema of a SqliteDatabase (the tables of all its parts).
//
// The schema is an ordered list of migrations, each applied in its own
// transaction and recorded in `schema_migrations(version, name, applied_at)`.
// Applying is idempotent: a restarted process applies only what is missing,
// and two processes opening one file at once apply each migration once.
// A database recorded at a version newer than this build knows is refused,
// so an old binary never writes to a schema it does not understand.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_MIGRATIONS_H_
#define LABELPORT_SERVICE_STORE_SQLITE_MIGRATIONS_H_

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace labelport::store {

// One schema step. `sql` may hold several statements.
struct SqliteMigration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};

// The migrations of this build, by strictly increasing version from 1.
absl::Span<const SqliteMigration> SqliteMigrations();

// The version the schema has once every migration of this build is applied.
int LatestSqliteSchemaVersion();

// The highest version recorded in `db`, 0 for a fresh database.
// `db` must not be used concurrently during the call.
absl::StatusOr<int> SqliteSchemaVersion(sqlite3* db);

// Brings `db` up to the last of `migrations` (ordered by version).
// FAILED_PRECONDITION when `db` is recorded at a newer version than the last
// of `migrations`; INTERNAL / UNAVAILABLE when a statement fails (nothing of
// the failed migration is kept). `db` must not be used concurrently during
// the call.
absl::Status ApplySqliteMigrations(sqlite3* db, absl::Span<const SqliteMigration> migrations);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_MIGRATIONS_H_
