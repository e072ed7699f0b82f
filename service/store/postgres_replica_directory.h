// PostgresReplicaDirectory: the ReplicaDirectory in the `replicas` table of
// a PostgresDatabase (on the database's pool). Expiry is judged by the
// database clock, like PostgresRunStore's leases, so replicas need no
// synchronised clocks.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_REPLICA_DIRECTORY_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_REPLICA_DIRECTORY_H_

#include <memory>
#include <string>

#include "service/store/postgres_connection_pool.h"
#include "service/store/replica_directory.h"

namespace labelport::store {

class PostgresReplicaDirectory : public ReplicaDirectory {
 public:
  explicit PostgresReplicaDirectory(std::shared_ptr<PostgresConnectionPool> pool)
      : pool_(std::move(pool)) {}

  absl::StatusOr<int> Heartbeat(const std::string& replica_id, absl::Duration ttl) override;
  absl::Status Leave(const std::string& replica_id) override;

 private:
  const std::shared_ptr<PostgresConnectionPool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_REPLICA_DIRECTORY_H_
