#include "service/store/sqlite_replica_directory.h"

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/status_macros.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<SqliteReplicaDirectory>> SqliteReplicaDirectory::Create(
    const Options& options) {
  LP_ASSIGN_OR_RETURN(SqliteConnection db, OpenSqliteConnection(options.path, options.busy_timeout,
                                                                "SqliteReplicaDirectory"));
  return std::unique_ptr<SqliteReplicaDirectory>(new SqliteReplicaDirectory(std::move(db)));
}

absl::StatusOr<int> SqliteReplicaDirectory::Heartbeat(const std::string& replica_id,
                                                      absl::Duration ttl) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Heartbeat";
  if (replica_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": the replica id is empty"));
  }
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": ttl must be > 0"));
  }
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  absl::MutexLock lock(&mu_);
  sqlite3* db = db_.get();
  // IMMEDIATE: take the write lock up front, so the count below sees the
  // state this heartbeat wrote and no writer in between.
  LP_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE", kOp));
  bool committed = false;
  absl::Cleanup rollback = [&] {
    if (!committed) (void)SqliteExec(db, "ROLLBACK", kOp);
  };
  {
    LP_ASSIGN_OR_RETURN(auto upsert,
                        SqliteStatement::Prepare(db,
                                                 "INSERT INTO replicas (replica_id, expires_ns) "
                                                 "VALUES (?1, ?2) ON CONFLICT (replica_id) DO "
                                                 "UPDATE SET expires_ns = excluded.expires_ns",
                                                 kOp));
    LP_RETURN_IF_ERROR(upsert.BindText(1, replica_id));
    LP_RETURN_IF_ERROR(upsert.BindInt64(2, now_ns + absl::ToInt64Nanoseconds(ttl)));
    LP_RETURN_IF_ERROR(upsert.Run());
  }
  {
    LP_ASSIGN_OR_RETURN(auto prune, SqliteStatement::Prepare(
                                        db, "DELETE FROM replicas WHERE expires_ns <= ?1", kOp));
    LP_RETURN_IF_ERROR(prune.BindInt64(1, now_ns));
    LP_RETURN_IF_ERROR(prune.Run());
  }
  int live = 0;
  {
    LP_ASSIGN_OR_RETURN(auto count,
                        SqliteStatement::Prepare(db, "SELECT COUNT(*) FROM replicas", kOp));
    LP_ASSIGN_OR_RETURN(bool row, count.Step());
    if (!row) return absl::InternalError(absl::StrCat(kOp, ": COUNT returned no row"));
    live = static_cast<int>(count.ColumnInt64(0));
  }
  LP_RETURN_IF_ERROR(SqliteExec(db, "COMMIT", kOp));
  committed = true;
  return live < 1 ? 1 : live;
}

absl::Status SqliteReplicaDirectory::Leave(const std::string& replica_id) {
  constexpr absl::string_view kOp = "ReplicaDirectory::Leave";
  if (replica_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": the replica id is empty"));
  }
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      auto remove,
      SqliteStatement::Prepare(db_.get(), "DELETE FROM replicas WHERE replica_id = ?1", kOp));
  LP_RETURN_IF_ERROR(remove.BindText(1, replica_id));
  return remove.Run();
}

}  // namespace labelport::store
