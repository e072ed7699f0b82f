#include "service/server/store_wiring.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::server {

absl::StatusOr<std::unique_ptr<Stores>> OpenStores(const config::ServerConfig& config) {
  auto stores = std::make_unique<Stores>();
  stores->store_location = {.sqlite_path = config.sqlite_path, .postgres_url = config.postgres_url};
  const store::RunStoreLocation& store_location = stores->store_location;
  auto store = store::OpenRunStore(store_location);
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("cannot open the run store: ", store.status().message()));
  }
  stores->store = *std::move(store);
  stores->run_store.emplace(stores->store.get(), &stores->run_changes);
  auto change_listener = store::ListenForRunChanges(store_location, &stores->run_changes);
  if (!change_listener.ok()) {
    return absl::Status(
        change_listener.status().code(),
        absl::StrCat("cannot listen for run changes: ", change_listener.status().message()));
  }
  stores->change_listener = *std::move(change_listener);
  auto replicas = store::OpenReplicaDirectory(store_location);
  auto run_counter = store::OpenRunStateCounter(store_location);
  if (!replicas.ok() || !run_counter.ok()) {
    const absl::Status failed = replicas.ok() ? run_counter.status() : replicas.status();
    return absl::Status(failed.code(),
                        absl::StrCat("cannot open the run store: ", failed.message()));
  }
  stores->replicas = *std::move(replicas);
  stores->run_state_counter = std::shared_ptr<store::RunStateCounter>(*std::move(run_counter));
  return stores;
}

}  // namespace labelport::server
