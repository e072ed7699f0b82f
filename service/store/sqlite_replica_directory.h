// SqliteReplicaDirectory: the ReplicaDirectory in the `replicas` table of the
// SQLite run store's file (its own connection; processes sharing the file
// see each other). Expiry times come from this process's clock, so processes
// sharing a file need synchronised clocks (as for leases).
#ifndef LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_
#define LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "service/store/replica_directory.h"
#include "service/store/sqlite_connection.h"

namespace labelport::store {

class SqliteReplicaDirectory : public ReplicaDirectory {
 public:
  struct Options {
    // Required: the run store's database file (not ":memory:").
    std::string path;
    absl::Duration busy_timeout = absl::Seconds(5);
  };

  // Errors as OpenSqliteConnection.
  static absl::StatusOr<std::unique_ptr<SqliteReplicaDirectory>> Create(const Options& options);

  absl::StatusOr<int> Heartbeat(const std::string& replica_id, absl::Duration ttl) override;
  absl::Status Leave(const std::string& replica_id) override;

 private:
  explicit SqliteReplicaDirectory(SqliteConnection db) : db_(std::move(db)) {}

  absl::Mutex mu_;
  SqliteConnection db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_REPLICA_DIRECTORY_H_
