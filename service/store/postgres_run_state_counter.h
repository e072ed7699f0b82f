// PostgresRunStateCounter: the RunStateCounter of a PostgresDatabase (on
// the database's pool).
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_RUN_STATE_COUNTER_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_RUN_STATE_COUNTER_H_

#include <map>
#include <memory>
#include <string>

#include "service/store/postgres_connection_pool.h"
#include "service/store/run_state_counter.h"

namespace labelport::store {

class PostgresRunStateCounter : public RunStateCounter {
 public:
  explicit PostgresRunStateCounter(std::shared_ptr<PostgresConnectionPool> pool)
      : pool_(std::move(pool)) {}

  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountRunsByState() override;
  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountTenantRunsByState(
      const std::string& tenant) override;

 private:
  const std::shared_ptr<PostgresConnectionPool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_RUN_STATE_COUNTER_H_
