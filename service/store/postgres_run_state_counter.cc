#include "service/store/postgres_run_state_counter.h"

#include <vector>

#include "service/common/status_macros.h"
#include "service/store/run_records.h"

namespace labelport::store {
namespace {

using Counts = std::map<labelport::v1::RunState, int64_t>;

// The counts in the rows (state, count) of `sql` with `params`.
absl::StatusOr<Counts> Count(PostgresConnectionPool& pool, absl::string_view sql,
                             const std::vector<PgParam>& params, absl::string_view operation) {
  return InTransaction(pool, TransactionMode::kRead, operation,
                       [&](PostgresConnection& db) -> absl::StatusOr<Counts> {
                         LP_ASSIGN_OR_RETURN(PgResult rows, db.Exec(sql, params, operation));
                         Counts counts;
                         for (int i = 0; i < rows.rows(); ++i) {
                           run_records::AddStateCount(rows.Int(i, 0), rows.Int(i, 1), counts);
                         }
                         return counts;
                       });
}

}  // namespace

absl::StatusOr<Counts> PostgresRunStateCounter::CountRunsByState() {
  return Count(*pool_, "SELECT state, count(*) FROM runs GROUP BY state", {}, "CountRunsByState");
}

absl::StatusOr<Counts> PostgresRunStateCounter::CountTenantRunsByState(const std::string& tenant) {
  return Count(*pool_, "SELECT state, count(*) FROM runs WHERE tenant = $1 GROUP BY state",
               {PgParam::Text(tenant)}, "CountTenantRunsByState");
}

}  // namespace labelport::store
