// SqliteReplicaDirectory: the ReplicaDirectory in the `replicas` table of a
// SqliteDatabase (processes sharing the file see each other). Expiry times
// come from this process's clock, so processes sharing a file need
// synchronised clocks (as for leases).
#ifndef LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_
#define LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_

#include <memory>
#include <string>

#include "service/store/replica_directory.h"
#include "service/store/sqlite_pool.h"

namespace labelport::store {

class SqliteReplicaDirectory : public ReplicaDirectory {
 public:
  explicit SqliteReplicaDirectory(std::shared_ptr<SqlitePool> pool) : pool_(std::move(pool)) {}

  absl::StatusOr<int> Heartbeat(const std::string& replica_id, absl::Duration ttl) override;
  absl::Status Leave(const std::string& replica_id) override;

 private:
  const std::shared_ptr<SqlitePool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_
