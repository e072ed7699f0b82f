#include "service/store/postgres_replica_directory.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/common/status_macros.h"
#include "service/store/postgres_component_pool.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<PostgresReplicaDirectory>> PostgresReplicaDirectory::Create(
    const Options& options) {
  LP_ASSIGN_OR_RETURN(std::unique_ptr<PostgresConnectionPool> pool,
                      OpenPostgresComponentPool(options.url, 1, "PostgresReplicaDirectory"));
  return std::unique_ptr<PostgresReplicaDirectory>(new PostgresReplicaDirectory(std::move(pool)));
}

absl::StatusOr<int> PostgresReplicaDirectory::Heartbeat(const std::string& replica_id,
                                                        absl::Duration ttl) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Heartbeat";
  if (replica_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": the replica id is empty"));
  }
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": ttl must be > 0"));
  }
  int live = 0;
  LP_RETURN_IF_ERROR(InPostgresTransaction(*pool_, kOp, [&](PostgresConnection& db) {
    LP_RETURN_IF_ERROR(
        db.Exec("INSERT INTO replicas (replica_id, expires_at) "
                "VALUES ($1, now() + $2::bigint * interval '1 millisecond') "
                "ON CONFLICT (replica_id) DO UPDATE SET expires_at = excluded.expires_at",
                {PgParam::Text(replica_id), PgParam::Int(absl::ToInt64Milliseconds(ttl))}, kOp)
            .status());
    LP_RETURN_IF_ERROR(db.Exec("DELETE FROM replicas WHERE expires_at <= now()", {}, kOp).status());
    LP_ASSIGN_OR_RETURN(PgResult count, db.Exec("SELECT count(*) FROM replicas", {}, kOp));
    live = count.rows() == 1 ? static_cast<int>(count.Int(0, 0)) : 0;
    return absl::OkStatus();
  }));
  return live < 1 ? 1 : live;
}

absl::Status PostgresReplicaDirectory::Leave(const std::string& replica_id) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Leave";
  if (replica_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": the replica id is empty"));
  }
  return InPostgresTransaction(*pool_, kOp, [&](PostgresConnection& db) {
    return db.Exec("DELETE FROM replicas WHERE replica_id = $1", {PgParam::Text(replica_id)}, kOp)
        .status();
  });
}

}  // namespace labelport::store
