#include "service/store/run_store_factory.h"

#include "absl/strings/str_cat.h"
#include "service/store/open_at_location.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_run_store.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<RunStore>> OpenRunStore(const RunStoreLocation& location) {
  return OpenAtLocation<RunStore, PostgresRunStore, SqliteRunStore>(location, "OpenRunStore");
}

std::string DescribeRunStore(const RunStoreLocation& location) {
  if (!location.postgres_url.empty()) return RedactPostgresUrl(location.postgres_url);
  return absl::StrCat("sqlite:", location.sqlite_path);
}

}  // namespace labelport::store
