#include "service/store/database.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_database.h"
#include "service/store/sqlite_database.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(const DatabaseLocation& location) {
  if (location.sqlite_path.empty() == location.postgres_url.empty()) {
    return absl::InvalidArgumentError(
        "OpenDatabase: give exactly one of a SQLite path and a PostgreSQL URL");
  }
  if (!location.postgres_url.empty()) {
    return PostgresDatabase::Create({.url = location.postgres_url});
  }
  return SqliteDatabase::Create({.path = location.sqlite_path});
}

std::string DescribeDatabase(const DatabaseLocation& location) {
  if (!location.postgres_url.empty()) return RedactPostgresUrl(location.postgres_url);
  return absl::StrCat("sqlite:", location.sqlite_path);
}

}  // namespace labelport::store
