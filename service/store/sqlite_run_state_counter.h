// SqliteRunStateCounter: the RunStateCounter on the SQLite run store's file
// (its own connection, so a scrape never waits for the store's mutex; it
// may wait up to `busy_timeout` for another writer).
#ifndef LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_
#define LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "service/store/run_state_counter.h"
#include "service/store/sqlite_connection.h"

namespace labelport::store {

class SqliteRunStateCounter : public RunStateCounter {
 public:
  struct Options {
    // Required: the run store's database file (not ":memory:").
    std::string path;
    absl::Duration busy_timeout = absl::Seconds(2);
  };

  // Errors as OpenSqliteConnection.
  static absl::StatusOr<std::unique_ptr<SqliteRunStateCounter>> Create(const Options& options);

  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountRunsByState() override;
  absl::StatusOr<std::map<labelport::v1::RunState, int64_t>> CountTenantRunsByState(
      const std::string& tenant) override;

 private:
  explicit SqliteRunStateCounter(SqliteConnection db) : db_(std::move(db)) {}

  absl::Mutex mu_;
  SqliteConnection db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_RUN_STATE_COUNTER_H_
