#include "service/store/postgres_database.h"

#include <utility>

#include "service/store/postgres_connection_pool.h"
#include "service/store/postgres_replica_directory.h"
#include "service/store/postgres_run_change_listener.h"
#include "service/store/postgres_run_state_counter.h"
#include "service/store/postgres_run_store.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Create(const Options& options) {
  absl::StatusOr<std::shared_ptr<PostgresConnectionPool>> pool =
      PostgresConnectionPool::OpenMigrated(options.url, options.max_connections,
                                           "PostgresDatabase");
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<PostgresDatabase>(new PostgresDatabase(options.url, *std::move(pool)));
}

PostgresDatabase::PostgresDatabase(std::string url, std::shared_ptr<PostgresConnectionPool> pool)
    : Database({.run_store = std::make_unique<PostgresRunStore>(pool),
                .run_state_counter = std::make_unique<PostgresRunStateCounter>(pool),
                .replica_directory = std::make_unique<PostgresReplicaDirectory>(pool)}),
      url_(std::move(url)),
      pool_(std::move(pool)) {}

absl::StatusOr<std::unique_ptr<RunChangeListening>> PostgresDatabase::ListenForRunChanges(
    RunChangeNotifier* notifier) {
  return PostgresRunChangeListener::Start({.url = url_, .notifier = notifier});
}

}  // namespace labelport::store
