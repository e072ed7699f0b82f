// Versioned schema of a PostgresDatabase (the tables of all its parts).
//
// The schema is an ordered list of migrations, each applied in its own
// transaction and recorded in `schema_migrations(version, name, applied_at)`
// of the connection's current schema. Every step runs under a transaction-
// scoped advisory lock keyed by that schema, so replicas starting at once
// apply each migration exactly once: the others wait, re-read the version
// and skip. A database recorded at a version newer than this build knows is
// refused, so an old binary never writes to a schema it does not understand.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_MIGRATIONS_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_MIGRATIONS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "service/store/postgres_connection.h"

namespace labelport::store {

// One schema step. `sql` may hold several statements.
struct PostgresMigration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};

// The migrations of this build, by strictly increasing version from 1.
absl::Span<const PostgresMigration> PostgresMigrations();

// The version the schema has once every migration of this build is applied.
int LatestPostgresSchemaVersion();

// The highest version recorded, 0 when schema_migrations is missing or empty.
absl::StatusOr<int> PostgresSchemaVersion(PostgresConnection& connection);

// Brings the connection's current schema up to the last of `migrations`.
// FAILED_PRECONDITION when it is recorded at a newer version; the errors of
// PostgresConnection when a statement fails (nothing of the failed
// migration is kept). `connection` must have no open transaction.
absl::Status ApplyPostgresMigrations(PostgresConnection& connection,
                                     absl::Span<const PostgresMigration> migrations);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_MIGRATIONS_H_
