#include "service/store/sqlite_replica_directory.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/status_macros.h"
#include "service/store/run_records.h"

namespace labelport::store {

absl::StatusOr<int> SqliteReplicaDirectory::Heartbeat(const std::string& replica_id,
                                                      absl::Duration ttl) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Heartbeat";
  LP_RETURN_IF_ERROR(run_records::CheckReplica(replica_id, kOp, ttl));
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  // A write transaction takes the write lock up front, so the count below
  // sees the state this heartbeat wrote and no writer in between.
  return InTransaction(
      *pool_, TransactionMode::kWrite, kOp, [&](sqlite3* db) -> absl::StatusOr<int> {
        LP_RETURN_IF_ERROR(SqliteExecute(db,
                                         "INSERT INTO replicas (replica_id, expires_ns) "
                                         "VALUES (?1, ?2) ON CONFLICT (replica_id) DO "
                                         "UPDATE SET expires_ns = excluded.expires_ns",
                                         kOp, {replica_id, now_ns + absl::ToInt64Nanoseconds(ttl)})
                               .status());
        LP_RETURN_IF_ERROR(
            SqliteExecute(db, "DELETE FROM replicas WHERE expires_ns <= ?1", kOp, {now_ns})
                .status());
        LP_ASSIGN_OR_RETURN(auto count,
                            SqliteStatement::Prepare(db, "SELECT COUNT(*) FROM replicas", kOp));
        LP_ASSIGN_OR_RETURN(bool row, count.Step());
        if (!row) return absl::InternalError(absl::StrCat(kOp, ": COUNT returned no row"));
        const int live = static_cast<int>(count.ColumnInt64(0));
        return live < 1 ? 1 : live;
      });
}

absl::Status SqliteReplicaDirectory::Leave(const std::string& replica_id) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Leave";
  LP_RETURN_IF_ERROR(run_records::CheckReplica(replica_id, kOp));
  return InTransaction(*pool_, TransactionMode::kWrite, kOp, [&](sqlite3* db) {
    return SqliteExecute(db, "DELETE FROM replicas WHERE replica_id = ?1", kOp, {replica_id})
        .status();
  });
}

}  // namespace labelport::store
