// Opens the RunStore a server is configured with (--store): SQLite on a
// file, or PostgreSQL at a URL shared by several replicas.
#ifndef LABELPORT_SERVICE_STORE_RUN_STORE_FACTORY_H_
#define LABELPORT_SERVICE_STORE_RUN_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/store/run_store.h"

namespace labelport::store {

// Where the runs are kept: exactly one of the two is set.
struct RunStoreLocation {
  // The SQLite database file.
  std::string sqlite_path;
  // postgresql://user:password@host:port/database[?params] (a secret: it
  // holds the password).
  std::string postgres_url;
};

// Opens (creating and migrating as needed) the store at `location`.
// INVALID_ARGUMENT when none or both are set; otherwise the errors of
// SqliteRunStore::Create or PostgresRunStore::Create, whose messages never
// contain a password.
absl::StatusOr<std::unique_ptr<RunStore>> OpenRunStore(const RunStoreLocation& location);

// "sqlite:<path>" or the PostgreSQL URL with its password redacted, for logs.
std::string DescribeRunStore(const RunStoreLocation& location);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_STORE_FACTORY_H_
