// SqliteRunStateCounter: the RunStateCounter of a SqliteDatabase. Counts on
// the database's read connections when it has them, so a scrape never waits
// for the writer.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_
#define LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_

#include <map>
#include <memory>
#include <string>

#include "service/store/run_state_counter.h"
#include "service/store/sqlite_pool.h"

namespace labelport::store {

class SqliteRunStateCounter : public RunStateCounter {
 public:
  explicit SqliteRunStateCounter(std::shared_ptr<SqlitePool> pool) : pool_(std::move(pool)) {}

  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountRunsByState() override;
  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountTenantRunsByState(
      const std::string& tenant) override;

 private:
  const std::shared_ptr<SqlitePool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_
