#include "service/store/run_store_factory.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_run_store.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<RunStore>> OpenRunStore(const RunStoreLocation& location) {
  if (location.sqlite_path.empty() == location.postgres_url.empty()) {
    return absl::InvalidArgumentError(
        "OpenRunStore: give exactly one of a SQLite path and a PostgreSQL URL");
  }
  if (!location.postgres_url.empty()) {
    absl::StatusOr<std::unique_ptr<PostgresRunStore>> store =
        PostgresRunStore::Create({.url = location.postgres_url});
    if (!store.ok()) return store.status();
    return std::unique_ptr<RunStore>(*std::move(store));
  }
  absl::StatusOr<std::unique_ptr<SqliteRunStore>> store =
      SqliteRunStore::Create({.path = location.sqlite_path});
  if (!store.ok()) return store.status();
  return std::unique_ptr<RunStore>(*std::move(store));
}

std::string DescribeRunStore(const RunStoreLocation& location) {
  if (!location.postgres_url.empty()) return RedactPostgresUrl(location.postgres_url);
  return absl::StrCat("sqlite:", location.sqlite_path);
}

}  // namespace labelport::store
