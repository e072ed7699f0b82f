#include "service/store/postgres_run_state_counter.h"

#include <utility>

#include "service/common/status_macros.h"
#include "service/store/postgres_component_pool.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<PostgresRunStateCounter>> PostgresRunStateCounter::Create(
    const Options& options) {
  LP_ASSIGN_OR_RETURN(std::unique_ptr<PostgresConnectionPool> pool,
                      OpenPostgresComponentPool(options.url, 1, "PostgresRunStateCounter"));
  return std::unique_ptr<PostgresRunStateCounter>(new PostgresRunStateCounter(std::move(pool)));
}

absl::StatusOr<std::map<labelport::v1::RunState, int64_t>>
PostgresRunStateCounter::CountRunsByState() {
  constexpr absl::string_view kOp = "CountRunsByState";
  std::map<labelport::v1::RunState, int64_t> counts;
  LP_RETURN_IF_ERROR(InPostgresTransaction(*pool_, kOp, [&](PostgresConnection& db) {
    LP_ASSIGN_OR_RETURN(PgResult rows,
                        db.Exec("SELECT state, count(*) FROM runs GROUP BY state", {}, kOp));
    for (int i = 0; i < rows.rows(); ++i) {
      const int64_t state = rows.Int(i, 0);
      if (!labelport::v1::RunState_IsValid(static_cast<int>(state))) continue;
      counts[static_cast<labelport::v1::RunState>(state)] = rows.Int(i, 1);
    }
    return absl::OkStatus();
  }));
  return counts;
}

absl::StatusOr<std::map<labelport::v1::RunState, int64_t>>
PostgresRunStateCounter::CountTenantRunsByState(const std::string& tenant) {
  constexpr absl::string_view kOp = "CountTenantRunsByState";
  std::map<labelport::v1::RunState, int64_t> counts;
  LP_RETURN_IF_ERROR(InPostgresTransaction(*pool_, kOp, [&](PostgresConnection& db) {
    LP_ASSIGN_OR_RETURN(PgResult rows,
                        db.Exec("SELECT state, count(*) FROM runs WHERE tenant = $1 GROUP BY state",
                                {PgParam::Text(tenant)}, kOp));
    for (int i = 0; i < rows.rows(); ++i) {
      const int64_t state = rows.Int(i, 0);
      if (!labelport::v1::RunState_IsValid(static_cast<int>(state))) continue;
      counts[static_cast<labelport::v1::RunState>(state)] = rows.Int(i, 1);
    }
    return absl::OkStatus();
  }));
  return counts;
}

}  // namespace labelport::store
