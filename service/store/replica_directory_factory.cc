#include "service/store/replica_directory_factory.h"

#include <utility>

#include "absl/status/status.h"
#include "service/store/postgres_replica_directory.h"
#include "service/store/sqlite_replica_directory.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<ReplicaDirectory>> OpenReplicaDirectory(
    const RunStoreLocation& location) {
  if (location.sqlite_path.empty() == location.postgres_url.empty()) {
    return absl::InvalidArgumentError(
        "OpenReplicaDirectory: give exactly one of a SQLite path and a PostgreSQL URL");
  }
  if (!location.postgres_url.empty()) {
    auto directory = PostgresReplicaDirectory::Create({.url = location.postgres_url});
    if (!directory.ok()) return directory.status();
    return std::unique_ptr<ReplicaDirectory>(*std::move(directory));
  }
  auto directory = SqliteReplicaDirectory::Create({.path = location.sqlite_path});
  if (!directory.ok()) return directory.status();
  return std::unique_ptr<ReplicaDirectory>(*std::move(directory));
}

}  // namespace labelport::store
