#include "service/store/sqlite_database.h"

#include <utility>

#include "service/store/sqlite_pool.h"
#include "service/store/sqlite_replica_directory.h"
#include "service/store/sqlite_run_state_counter.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Create(const Options& options) {
  absl::StatusOr<std::shared_ptr<SqlitePool>> pool = SqlitePool::Open(
      options.path, options.busy_timeout, options.read_connections, "SqliteDatabase");
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<SqliteDatabase>(
      new SqliteDatabase(*std::move(pool), options.record_cache_capacity));
}

SqliteDatabase::SqliteDatabase(std::shared_ptr<SqlitePool> pool, size_t record_cache_capacity)
    : Database({.run_store = std::make_unique<SqliteRunStore>(pool, record_cache_capacity),
                .run_state_counter = std::make_unique<SqliteRunStateCounter>(pool),
                .replica_directory = std::make_unique<SqliteReplicaDirectory>(pool)}),
      pool_(std::move(pool)) {}

absl::StatusOr<std::unique_ptr<RunChangeListening>> SqliteDatabase::ListenForRunChanges(
    RunChangeNotifier* /*notifier*/) {
  // One replica per file: the in-process notifier already sees every change.
  return std::make_unique<RunChangeListening>();
}

}  // namespace labelport::store
