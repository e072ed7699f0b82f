// Opens the ReplicaDirectory beside the run store a server is configured
// with: in the same SQLite file or the same PostgreSQL database, so that the
// replicas sharing a store see each other.
#ifndef LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_FACTORY_H_
#define LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "service/store/replica_directory.h"
#include "service/store/run_store_factory.h"

namespace labelport::store {

// INVALID_ARGUMENT when none or both locations are set; otherwise the
// errors of SqliteReplicaDirectory::Create or PostgresReplicaDirectory::
// Create (never containing a password).
absl::StatusOr<std::unique_ptr<ReplicaDirectory>> OpenReplicaDirectory(
    const RunStoreLocation& location);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_FACTORY_H_
