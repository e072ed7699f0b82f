#include "service/store/sqlite_migrations.h"

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/store/migration_checks.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {
namespace {

// Append-only: a released migration is never edited, a change is a new one.
constexpr SqliteMigration kMigrations[] = {
    {1, "initial_schema", R"sql(
CREATE TABLE runs (
  run_id TEXT NOT NULL PRIMARY KEY,
  tenant TEXT NOT NULL,
  dataset TEXT NOT NULL,
  anno_key TEXT NOT NULL,
  backend TEXT NOT NULL,
  state INTEGER NOT NULL,
  dataset_slug TEXT NOT NULL,
  request_id TEXT NOT NULL,
  record BLOB NOT NULL,
  create_time_ns INTEGER NOT NULL,
  update_time_ns INTEGER NOT NULL,
  UNIQUE (tenant, dataset, anno_key)
);
CREATE TABLE request_ids (
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  PRIMARY KEY (tenant, request_id)
);
CREATE INDEX request_ids_by_run ON request_ids (run_id);
CREATE TABLE run_samples (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  sample_id TEXT NOT NULL,
  sample BLOB NOT NULL,
  PRIMARY KEY (run_id, position),
  UNIQUE (run_id, sample_id)
);
)sql"},
    // The upload job of a run: record revisions, per-sample progress,
    // annotation links, Darwin state and a worker lease. The partial index
    // serves ListClaimableRuns, whose WHERE clause repeats its condition
    // word for word (SQLite uses a partial index only then). The states are
    // labelport.v1.RunState PENDING (1) and UPLOADING (2).
    {2, "upload_jobs", R"sql(
ALTER TABLE runs ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_expires_ns INTEGER;
CREATE INDEX runs_claimable ON runs (create_time_ns, run_id)
  WHERE state IN (1, 2);
CREATE TABLE sample_progress (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE annotation_links (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  annotation_id TEXT NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (run_id, annotation_id)
);
CREATE TABLE darwin_state (
  run_id TEXT NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
  record BLOB NOT NULL
);
)sql"},
    {3, "staged_samples", R"sql(
CREATE TABLE staged_samples (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  stage_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  sample BLOB NOT NULL,
  PRIMARY KEY (run_id, stage_id, position)
);
)sql"},
    // Links are read per item during a load. Rows written before this
    // migration have item_id '' and are matched by the record's own item id.
    {4, "annotation_links_by_item", R"sql(
ALTER TABLE annotation_links ADD COLUMN item_id TEXT NOT NULL DEFAULT '';
CREATE INDEX annotation_links_item ON annotation_links (run_id, item_id, annotation_id);
)sql"},
    // Live replicas of one store (ReplicaDirectory), to share the V7 rate
    // limit; and an index for the runs-by-state count of the metrics.
    {5, "replicas", R"sql(
CREATE TABLE replicas (
  replica_id TEXT NOT NULL PRIMARY KEY,
  expires_ns INTEGER NOT NULL
);
CREATE INDEX runs_by_state ON runs (state);
)sql"},
    // Run spools (RunStore::BeginRunSpool): a pending run is a `runs` row with
    // state -1, dataset '' and anno_key = its run_id (no real key: dataset ''
    // is no valid dataset), a spool owner and expiry; its samples go to
    // run_samples and its label ids here. Committing the run rewrites the row
    // and drops its label ids.
    {6, "run_spools", R"sql(
ALTER TABLE runs ADD COLUMN spool_owner TEXT;
ALTER TABLE runs ADD COLUMN spool_expires_ns INTEGER;
CREATE INDEX runs_spooled ON runs (spool_owner, spool_expires_ns)
  WHERE spool_expires_ns IS NOT NULL;
CREATE TABLE spooled_label_ids (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  label_id TEXT NOT NULL,
  PRIMARY KEY (run_id, label_id)
) WITHOUT ROWID;
)sql"},
    // The backend's state of a run is opaque to the store (RunStore::
    // SaveBackendState): its bytes with the type_url of their message. Rows
    // of darwin_state, written when only V7 kept a state, are DarwinRunStates.
    {7, "backend_state", R"sql(
ALTER TABLE darwin_state RENAME TO backend_state;
ALTER TABLE backend_state ADD COLUMN type_url TEXT NOT NULL
  DEFAULT 'type.googleapis.com/labelport.internal.v1.DarwinRunState';
)sql"},
};

constexpr absl::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
))sql";

// One migration in its own write transaction. The version is re-read inside
// the transaction so that a concurrent opener that got there first wins and
// this one skips.
absl::Status ApplyOne(sqlite3* db, const SqliteMigration& migration, int latest) {
  const std::string operation =
      absl::StrCat("apply migration ", migration.version, " (", migration.name, ")");
  LP_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE", operation));
  bool committed = false;
  absl::Cleanup rollback = [&] {
    if (!committed) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  };
  LP_ASSIGN_OR_RETURN(int recorded, SqliteSchemaVersion(db));
  LP_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, latest));
  if (recorded < migration.version) {
    LP_RETURN_IF_ERROR(SqliteExec(db, migration.sql, operation));
    LP_ASSIGN_OR_RETURN(
        SqliteStatement record,
        SqliteStatement::Prepare(db,
                                 "INSERT INTO schema_migrations (version, name, applied_at) "
                                 "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                                 absl::StrCat(operation, ": record")));
    LP_RETURN_IF_ERROR(record.BindInt64(1, migration.version));
    LP_RETURN_IF_ERROR(record.BindText(2, migration.name));
    LP_RETURN_IF_ERROR(record.Run());
  }
  LP_RETURN_IF_ERROR(SqliteExec(db, "COMMIT", operation));
  committed = true;
  return absl::OkStatus();
}

}  // namespace

absl::Span<const SqliteMigration> SqliteMigrations() { return kMigrations; }

int LatestSqliteSchemaVersion() { return SqliteMigrations().back().version; }

absl::StatusOr<int> SqliteSchemaVersion(sqlite3* db) {
  LP_ASSIGN_OR_RETURN(
      SqliteStatement query,
      SqliteStatement::Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                               "read schema version"));
  LP_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return absl::InternalError("read schema version: no result row");
  return static_cast<int>(query.ColumnInt64(0));
}

absl::Status ApplySqliteMigrations(sqlite3* db, absl::Span<const SqliteMigration> migrations) {
  LP_RETURN_IF_ERROR(CheckMigrationsOrdered(migrations));
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  LP_RETURN_IF_ERROR(
      SqliteExec(db, kCreateMigrationsTable, "apply migrations: create schema_migrations"));
  LP_ASSIGN_OR_RETURN(int recorded, SqliteSchemaVersion(db));
  LP_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, latest));
  for (const SqliteMigration& migration : migrations) {
    if (migration.version <= recorded) continue;
    LP_RETURN_IF_ERROR(ApplyOne(db, migration, latest));
  }
  return absl::OkStatus();
}

}  // namespace labelport::store
