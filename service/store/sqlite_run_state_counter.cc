#include "service/store/sqlite_run_state_counter.h"

#include <utility>

#include "service/common/status_macros.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<SqliteRunStateCounter>> SqliteRunStateCounter::Create(
    const Options& options) {
  LP_ASSIGN_OR_RETURN(SqliteConnection db, OpenSqliteConnection(options.path, options.busy_timeout,
                                                                "SqliteRunStateCounter"));
  return std::unique_ptr<SqliteRunStateCounter>(new SqliteRunStateCounter(std::move(db)));
}

absl::StatusOr<std::map<labelport::v1::RunState, int64_t>>
SqliteRunStateCounter::CountRunsByState() {
  constexpr absl::string_view kOp = "CountRunsByState";
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      auto query,
      SqliteStatement::Prepare(db_.get(), "SELECT state, COUNT(*) FROM runs GROUP BY state", kOp));
  std::map<labelport::v1::RunState, int64_t> counts;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    const int64_t state = query.ColumnInt64(0);
    if (!labelport::v1::RunState_IsValid(static_cast<int>(state))) continue;
    counts[static_cast<labelport::v1::RunState>(state)] = query.ColumnInt64(1);
  }
  return counts;
}

absl::StatusOr<std::map<labelport::v1::RunState, int64_t>>
SqliteRunStateCounter::CountTenantRunsByState(const std::string& tenant) {
  constexpr absl::string_view kOp = "CountTenantRunsByState";
  absl::MutexLock lock(&mu_);
  LP_ASSIGN_OR_RETURN(
      auto query,
      SqliteStatement::Prepare(
          db_.get(), "SELECT state, COUNT(*) FROM runs WHERE tenant = ?1 GROUP BY state", kOp));
  LP_RETURN_IF_ERROR(query.BindText(1, tenant));
  std::map<labelport::v1::RunState, int64_t> counts;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    const int64_t state = query.ColumnInt64(0);
    if (!labelport::v1::RunState_IsValid(static_cast<int>(state))) continue;
    counts[static_cast<labelport::v1::RunState>(state)] = query.ColumnInt64(1);
  }
  return counts;
}

}  // namespace labelport::store
