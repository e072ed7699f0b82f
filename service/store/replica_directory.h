// ReplicaDirectory: the live labelport replicas sharing one store, so that
// they can split per-API-key limits (the V7 rate limit) fairly among
// themselves (see core/replica_rate_share.h).
//
// A replica is alive while its last heartbeat is younger than the ttl it
// gave; a replica that dies simply stops heartbeating and drops out after
// that ttl. Implementations: SqliteReplicaDirectory (and PostgreSQL beside
// the PostgreSQL RunStore).
//
// Thread-safety: every method may be called concurrently, also from several
// processes on one store. Methods block on I/O; call them off gRPC threads.
// Errors: INVALID_ARGUMENT for an empty replica id or ttl <= 0; UNAVAILABLE /
// INTERNAL for storage failures (the message names the operation).
#ifndef LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_H_
#define LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labelport::store {

class ReplicaDirectory {
 public:
  virtual ~ReplicaDirectory() = default;

  // Records that `replica_id` is alive until now + `ttl`, forgets replicas
  // whose time has passed, and returns how many replicas are alive now,
  // this one included (so always >= 1).
  virtual absl::StatusOr<int> Heartbeat(const std::string& replica_id, absl::Duration ttl) = 0;

  // Removes `replica_id` (a clean shutdown), so that the others may take
  // its share at their next heartbeat. Unknown ids are ignored.
  virtual absl::Status Leave(const std::string& replica_id) = 0;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_REPLICA_DIRECTORY_H_
