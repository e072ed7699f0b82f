// The server's stores: the run store (SQLite or PostgreSQL, by the config's
// location), the notifications of run record changes (in process, and with
// PostgreSQL those of every replica by LISTEN/NOTIFY), the replica directory
// and the runs-by-state counter beside it.
#ifndef LABELPORT_SERVICE_SERVER_STORE_WIRING_H_
#define LABELPORT_SERVICE_SERVER_STORE_WIRING_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "service/config/server_config.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/notifying_run_store.h"
#include "service/store/replica_directory_factory.h"
#include "service/store/run_change_listener_factory.h"
#include "service/store/run_state_counter_factory.h"
#include "service/store/run_store_factory.h"

namespace labelport::server {

// Members are destroyed in reverse order: everything that refers to the
// run store goes before it. Not movable (the server keeps it by pointer).
struct Stores {
  store::RunStoreLocation store_location;
  std::unique_ptr<store::RunStore> store;
  // Run record changes reach watchers by notification (DESIGN.md §11): those
  // made here through `run_store`, and with PostgreSQL those of every
  // replica through LISTEN/NOTIFY.
  store::InProcessRunChangeNotifier run_changes;
  std::optional<store::NotifyingRunStore> run_store;
  std::unique_ptr<store::RunChangeListening> change_listener;
  // Beside the store: the live replicas (to share the V7 rate limit) and
  // the runs-by-state count of the metrics. The counter is shared by the
  // metrics (all tenants; a scrape may come until the metrics endpoint
  // itself is gone) and the runs-in-flight quota (per tenant).
  std::unique_ptr<store::ReplicaDirectory> replicas;
  std::shared_ptr<store::RunStateCounter> run_state_counter;
};

// Opens the stores at the config's --sqlite_path or --postgres_url. Errors
// (UNAVAILABLE etc. from the store factories) carry the server's log line:
// "cannot open the run store: ..." or "cannot listen for run changes: ...".
absl::StatusOr<std::unique_ptr<Stores>> OpenStores(const config::ServerConfig& config);

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_STORE_WIRING_H_
