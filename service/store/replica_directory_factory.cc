#include "service/store/replica_directory_factory.h"

#include "service/store/open_at_location.h"
#include "service/store/postgres_replica_directory.h"
#include "service/store/sqlite_replica_directory.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<ReplicaDirectory>> OpenReplicaDirectory(
    const RunStoreLocation& location) {
  return OpenAtLocation<ReplicaDirectory, PostgresReplicaDirectory, SqliteReplicaDirectory>(
      location, "OpenReplicaDirectory");
}

}  // namespace labelport::store
