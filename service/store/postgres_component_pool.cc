#include "service/store/postgres_component_pool.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/store/postgres_migrations.h"
#include "service/store/run_records.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<PostgresConnectionPool>> OpenPostgresComponentPool(
    const std::string& url, int max_connections, absl::string_view component) {
  const std::string prefix = absl::StrCat(component, "('", RedactPostgresUrl(url), "'): ");
  if (!IsPostgresUrl(url)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "the URL must start with postgresql://"));
  }
  auto pool = std::make_unique<PostgresConnectionPool>(url, max_connections,
                                                       /*initialize=*/nullptr);
  {
    absl::StatusOr<PostgresConnectionPool::Lease> connection = pool->Acquire();
    if (!connection.ok()) return run_records::Prefixed(connection.status(), prefix);
    absl::Status migrated = ApplyPostgresMigrations(**connection, PostgresMigrations());
    if (!migrated.ok()) return run_records::Prefixed(migrated, prefix);
  }
  return pool;
}

absl::Status InPostgresTransaction(PostgresConnectionPool& pool, absl::string_view operation,
                                   const std::function<absl::Status(PostgresConnection&)>& body) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<PostgresConnectionPool::Lease> connection = pool.Acquire();
    if (!connection.ok()) {
      return run_records::Prefixed(connection.status(), absl::StrCat(operation, ": "));
    }
    PostgresConnection& db = **connection;
    absl::Status begun = db.ExecScript("BEGIN", absl::StrCat(operation, ": begin transaction"));
    if (!begun.ok()) {
      connection->Discard();
      // A pooled connection the server closed meanwhile (the others are
      // likely dead too): once more, on a fresh connection.
      if (attempt == 0 && begun.code() == absl::StatusCode::kUnavailable) {
        pool.DropIdle();
        continue;
      }
      return begun;
    }
    absl::Status status = body(db);
    if (!status.ok()) {
      if (db.healthy()) (void)db.ExecScript("ROLLBACK", absl::StrCat(operation, ": roll back"));
      return status;
    }
    return db.ExecScript("COMMIT", absl::StrCat(operation, ": commit"));
  }
}

}  // namespace labelport::store
