// The server's stores: one database (SQLite or PostgreSQL, by the config's
// location) with its parts — the run store, the replica directory and the
// runs-by-state counter — and the notifications of run record changes (in
// process, and with PostgreSQL those of every replica by LISTEN/NOTIFY).
#ifndef LABELPORT_SERVICE_SERVER_STORE_WIRING_H_
#define LABELPORT_SERVICE_SERVER_STORE_WIRING_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "service/config/server_config.h"
#include "service/store/database.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/notifying_run_store.h"

namespace labelport::server {

// Members are destroyed in reverse order: everything that refers to the
// database goes before it. Not movable (the server keeps it by pointer).
struct Stores {
  store::DatabaseLocation store_location;
  // Shared: the metrics' run-count source holds it too.
  std::shared_ptr<store::Database> database;
  // Run record changes reach watchers by notification (DESIGN.md §11): those
  // made here through `run_store`, and with PostgreSQL those of every
  // replica through LISTEN/NOTIFY.
  store::InProcessRunChangeNotifier run_changes;
  std::optional<store::NotifyingRunStore> run_store;
  std::unique_ptr<store::RunChangeListening> change_listener;
  // Parts of the database: the live replicas (to share the V7 rate limit)
  // and the runs-by-state count of the metrics. The counter is shared by the
  // metrics (all tenants; a scrape may come until the metrics endpoint
  // itself is gone, so it keeps the database alive) and the runs-in-flight
  // quota (per tenant).
  store::ReplicaDirectory* replicas = nullptr;
  std::shared_ptr<store::RunStateCounter> run_state_counter;
};

// Opens the database at the config's --sqlite_path or --postgres_url. Errors
// (UNAVAILABLE etc. from OpenDatabase) carry the server's log line:
// "cannot open the run store: ..." or "cannot listen for run changes: ...".
absl::StatusOr<std::unique_ptr<Stores>> OpenStores(const config::ServerConfig& config);

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_STORE_WIRING_H_
