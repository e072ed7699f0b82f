#include "service/store/sqlite_run_state_counter.h"

#include "service/common/status_macros.h"
#include "service/store/run_records.h"

namespace labelport::store {
namespace {

using Counts = std::map<labelport::v1::RunState, int64_t>;

// The counts in the rows (state, count) of `query`.
absl::StatusOr<Counts> ReadCounts(SqliteStatement& query) {
  Counts counts;
  while (true) {
    LP_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return counts;
    run_records::AddStateCount(query.ColumnInt64(0), query.ColumnInt64(1), counts);
  }
}

}  // namespace

absl::StatusOr<Counts> SqliteRunStateCounter::CountRunsByState() {
  return pool_->Read("SELECT state, COUNT(*) FROM runs GROUP BY state", "CountRunsByState",
                     ReadCounts);
}

absl::StatusOr<Counts> SqliteRunStateCounter::CountTenantRunsByState(const std::string& tenant) {
  return pool_->Read("SELECT state, COUNT(*) FROM runs WHERE tenant = ?1 GROUP BY state",
                     "CountTenantRunsByState",
                     [&tenant](SqliteStatement& query) -> absl::StatusOr<Counts> {
                       LP_RETURN_IF_ERROR(query.BindText(1, tenant));
                       return ReadCounts(query);
                     });
}

}  // namespace labelport::store
