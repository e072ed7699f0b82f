#include "service/server/store_wiring.h"

#include <utility>

#include "service/common/errors.h"

namespace labelport::server {

absl::StatusOr<std::unique_ptr<Stores>> OpenStores(const config::ServerConfig& config) {
  auto stores = std::make_unique<Stores>();
  stores->store_location = {.sqlite_path = config.sqlite_path, .postgres_url = config.postgres_url};
  auto database = store::OpenDatabase(stores->store_location);
  if (!database.ok()) return common::Prefixed("cannot open the run store: ", database.status());
  stores->database = *std::move(database);
  stores->run_store.emplace(&stores->database->run_store(), &stores->run_changes);
  auto change_listener = stores->database->ListenForRunChanges(&stores->run_changes);
  if (!change_listener.ok())
    return common::Prefixed("cannot listen for run changes: ", change_listener.status());
  stores->change_listener = *std::move(change_listener);
  stores->replicas = &stores->database->replica_directory();
  stores->run_state_counter = std::shared_ptr<store::RunStateCounter>(
      stores->database, &stores->database->run_state_counter());
  return stores;
}

}  // namespace labelport::server
