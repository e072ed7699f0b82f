#include "service/store/postgres_replica_directory.h"

#include "absl/status/status.h"
#include "service/common/status_macros.h"
#include "service/store/run_records.h"

namespace labelport::store {

absl::StatusOr<int> PostgresReplicaDirectory::Heartbeat(const std::string& replica_id,
                                                        absl::Duration ttl) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Heartbeat";
  LP_RETURN_IF_ERROR(run_records::CheckReplica(replica_id, kOp, ttl));
  return InTransaction(
      *pool_, TransactionMode::kWrite, kOp, [&](PostgresConnection& db) -> absl::StatusOr<int> {
        LP_RETURN_IF_ERROR(
            db.Exec("INSERT INTO replicas (replica_id, expires_at) "
                    "VALUES ($1, now() + $2::bigint * interval '1 millisecond') "
                    "ON CONFLICT (replica_id) DO UPDATE SET expires_at = excluded.expires_at",
                    {PgParam::Text(replica_id), PgParam::Int(absl::ToInt64Milliseconds(ttl))}, kOp)
                .status());
        LP_RETURN_IF_ERROR(
            db.Exec("DELETE FROM replicas WHERE expires_at <= now()", {}, kOp).status());
        LP_ASSIGN_OR_RETURN(PgResult count, db.Exec("SELECT count(*) FROM replicas", {}, kOp));
        const int live = count.rows() == 1 ? static_cast<int>(count.Int(0, 0)) : 0;
        return live < 1 ? 1 : live;
      });
}

absl::Status PostgresReplicaDirectory::Leave(const std::string& replica_id) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Leave";
  LP_RETURN_IF_ERROR(run_records::CheckReplica(replica_id, kOp));
  return InTransaction(*pool_, TransactionMode::kWrite, kOp, [&](PostgresConnection& db) {
    return db.Exec("DELETE FROM replicas WHERE replica_id = $1", {PgParam::Text(replica_id)}, kOp)
        .status();
  });
}

}  // namespace labelport::store
