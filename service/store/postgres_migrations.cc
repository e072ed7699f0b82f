#include "service/store/postgres_migrations.h"

#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/store/migration_checks.h"

namespace labelport::store {
namespace {

// Append-only: a released migration is never edited, a change is a new one.
// Text that is sorted or compared (keys, ids) uses the "C" collation, so
// that order is byte order whatever the database's default collation.
// Times are Unix nanoseconds from the database clock; a lease expires at a
// database timestamp, so replicas need no synchronised clocks.
// The states in runs_claimable are labelport.v1.RunState PENDING (1) and
// UPLOADING (2).
constexpr PostgresMigration kMigrations[] = {
    {1, "initial_schema", R"sql(
CREATE TABLE runs (
  run_id text COLLATE "C" NOT NULL PRIMARY KEY,
  tenant text COLLATE "C" NOT NULL,
  dataset text COLLATE "C" NOT NULL,
  anno_key text COLLATE "C" NOT NULL,
  backend text NOT NULL,
  state integer NOT NULL,
  dataset_slug text NOT NULL,
  request_id text NOT NULL,
  record bytea NOT NULL,
  create_time_ns bigint NOT NULL,
  update_time_ns bigint NOT NULL,
  revision bigint NOT NULL DEFAULT 1,
  lease_owner text,
  lease_expires_at timestamptz,
  CONSTRAINT runs_key_unique UNIQUE (tenant, dataset, anno_key)
);
CREATE INDEX runs_claimable ON runs (create_time_ns, run_id) WHERE state IN (1, 2);
CREATE TABLE request_ids (
  tenant text COLLATE "C" NOT NULL,
  request_id text COLLATE "C" NOT NULL,
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  PRIMARY KEY (tenant, request_id)
);
CREATE INDEX request_ids_by_run ON request_ids (run_id);
CREATE TABLE run_samples (
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  position bigint NOT NULL,
  sample_id text COLLATE "C" NOT NULL,
  sample bytea NOT NULL,
  PRIMARY KEY (run_id, position),
  CONSTRAINT run_samples_id_unique UNIQUE (run_id, sample_id)
);
CREATE TABLE sample_progress (
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  position bigint NOT NULL,
  record bytea NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE annotation_links (
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  annotation_id text COLLATE "C" NOT NULL,
  item_id text COLLATE "C" NOT NULL,
  record bytea NOT NULL,
  PRIMARY KEY (run_id, annotation_id)
);
CREATE INDEX annotation_links_item ON annotation_links (run_id, item_id);
CREATE TABLE darwin_state (
  run_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
  record bytea NOT NULL
);
CREATE TABLE staged_samples (
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  stage_id text COLLATE "C" NOT NULL,
  position bigint NOT NULL,
  sample bytea NOT NULL,
  PRIMARY KEY (run_id, stage_id, position)
);
)sql"},
    // Live replicas of one store (ReplicaDirectory), to share the V7 rate
    // limit; expiry by the database clock. And an index for the
    // runs-by-state count of the metrics.
    {2, "replicas", R"sql(
CREATE TABLE replicas (
  replica_id text COLLATE "C" NOT NULL PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX runs_by_state ON runs (state);
)sql"},
    // Run spools (RunStore::BeginRunSpool): a pending run is a `runs` row with
    // state -1, dataset '' and anno_key = its run_id (no real key: dataset ''
    // is no valid dataset), a spool owner and expiry (database clock); its
    // samples go to run_samples and its label ids here. Committing the run
    // rewrites the row and drops its label ids.
    {3, "run_spools", R"sql(
ALTER TABLE runs ADD COLUMN spool_owner text;
ALTER TABLE runs ADD COLUMN spool_expires_at timestamptz;
CREATE INDEX runs_spooled ON runs (spool_owner, spool_expires_at)
  WHERE spool_expires_at IS NOT NULL;
CREATE TABLE spooled_label_ids (
  run_id text COLLATE "C" NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  label_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, label_id)
);
)sql"},
    // The backend's state of a run is opaque to the store (RunStore::
    // SaveBackendState): its bytes with the type_url of their message. Rows
    // of darwin_state, written when only V7 kept a state, are DarwinRunStates.
    {4, "backend_state", R"sql(
ALTER TABLE darwin_state RENAME TO backend_state;
ALTER TABLE backend_state ADD COLUMN type_url text COLLATE "C" NOT NULL
  DEFAULT 'type.googleapis.com/labelport.internal.v1.DarwinRunState';
ALTER TABLE backend_state ALTER COLUMN type_url DROP DEFAULT;
)sql"},
};

constexpr absl::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer NOT NULL PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// Serialises migrations of one schema across processes; released at the
// end of the transaction, even when the process dies.
constexpr absl::string_view kLockMigrations =
    "SELECT pg_advisory_xact_lock(hashtext('labelport.schema_migrations.' || current_schema()))";

absl::StatusOr<int> RecordedVersion(PostgresConnection& connection) {
  LP_ASSIGN_OR_RETURN(
      PgResult result,
      connection.Exec("SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations", {},
                      "read schema version"));
  return static_cast<int>(result.Int(0, 0));
}

// One migration in its own transaction under the advisory lock; the version
// is re-read under the lock, so a replica that got there first wins and this
// one skips. Returns the version recorded afterwards.
absl::StatusOr<int> ApplyOne(PostgresConnection& connection, const PostgresMigration& migration,
                             int latest) {
  const std::string operation =
      absl::StrCat("apply migration ", migration.version, " (", migration.name, ")");
  LP_RETURN_IF_ERROR(connection.ExecScript("BEGIN", operation));
  bool committed = false;
  absl::Cleanup rollback = [&] {
    if (!committed) (void)connection.ExecScript("ROLLBACK", operation);
  };
  LP_RETURN_IF_ERROR(connection.Exec(kLockMigrations, {}, operation).status());
  LP_RETURN_IF_ERROR(connection.ExecScript(kCreateMigrationsTable, operation));
  LP_ASSIGN_OR_RETURN(int recorded, RecordedVersion(connection));
  LP_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, latest));
  if (recorded < migration.version) {
    LP_RETURN_IF_ERROR(connection.ExecScript(migration.sql, operation));
    LP_RETURN_IF_ERROR(connection
                           .Exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                 {PgParam::Int(migration.version), PgParam::Text(migration.name)},
                                 absl::StrCat(operation, ": record"))
                           .status());
    recorded = migration.version;
  }
  LP_RETURN_IF_ERROR(connection.ExecScript("COMMIT", operation));
  committed = true;
  return recorded;
}

}  // namespace

absl::Span<const PostgresMigration> PostgresMigrations() { return kMigrations; }

int LatestPostgresSchemaVersion() { return PostgresMigrations().back().version; }

absl::StatusOr<int> PostgresSchemaVersion(PostgresConnection& connection) {
  LP_ASSIGN_OR_RETURN(PgResult exists,
                      connection.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL", {},
                                      "read schema version"));
  if (exists.View(0, 0) != absl::string_view("\x01", 1)) return 0;
  return RecordedVersion(connection);
}

absl::Status ApplyPostgresMigrations(PostgresConnection& connection,
                                     absl::Span<const PostgresMigration> migrations) {
  LP_RETURN_IF_ERROR(CheckMigrationsOrdered(migrations));
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  // Without taking the lock when the schema is already current: replicas
  // restarting together do not queue behind each other.
  LP_ASSIGN_OR_RETURN(int recorded, PostgresSchemaVersion(connection));
  LP_RETURN_IF_ERROR(CheckSchemaNotNewer(recorded, latest));
  for (const PostgresMigration& migration : migrations) {
    if (migration.version <= recorded) continue;
    LP_ASSIGN_OR_RETURN(recorded, ApplyOne(connection, migration, latest));
  }
  return absl::OkStatus();
}

}  // namespace labelport::store
