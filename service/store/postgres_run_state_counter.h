// PostgresRunStateCounter: the RunStateCounter on a PostgreSQL run store's
// database (its own one-connection pool, so a scrape never waits for the
// store's pool).
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
  struct Options {
    // Required: the run store's URL (see PostgresRunStore::Options::url).
    std::string url;
  };

  // Connects and applies pending migrations; errors as
  // PostgresRunStore::Create (messages never contain the password).
  static absl::StatusOr<std::unique_ptr<PostgresRunStateCounter>> Create(const Options& options);

  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountRunsByState() override;
  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountTenantRunsByState(
      const std::string& tenant) override;

 private:
  explicit PostgresRunStateCounter(std::unique_ptr<PostgresConnectionPool> pool)
      : pool_(std::move(pool)) {}

  std::unique_ptr<PostgresConnectionPool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_RUN_STATE_COUNTER_H_
