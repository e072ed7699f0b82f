// Starts what carries run changes between the replicas of the run store a
// server is configured with: a PostgresRunChangeListener for a PostgreSQL
// database, nothing for SQLite (one replica: the in-process notifier is all).
// The server sees this factory, not the PostgreSQL listener (so libpq stays
// inside the store layer).
#ifndef LABELPORT_SERVICE_STORE_RUN_CHANGE_LISTENER_FACTORY_H_
#define LABELPORT_SERVICE_STORE_RUN_CHANGE_LISTENER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "service/store/run_change_notifier.h"
#include "service/store/run_store_factory.h"

namespace labelport::store {

class PostgresRunChangeListener;

// Owns the listener, if any; destroying it stops and joins the listener's
// thread.
class RunChangeListening {
 public:
  explicit RunChangeListening(std::unique_ptr<PostgresRunChangeListener> listener);
  ~RunChangeListening();
  RunChangeListening(const RunChangeListening&) = delete;
  RunChangeListening& operator=(const RunChangeListening&) = delete;

 private:
  std::unique_ptr<PostgresRunChangeListener> listener_;
};

// For a PostgreSQL location, connects and LISTENs once before returning
// (PostgresRunChangeListener::Start and its errors: INVALID_ARGUMENT for a bad
// URL, UNAVAILABLE when the connection fails; never containing a password)
// and hands every change to `notifier`, which must outlive the result. For a
// SQLite location, returns an object that listens to nothing.
absl::StatusOr<std::unique_ptr<RunChangeListening>> ListenForRunChanges(
    const RunStoreLocation& location, RunChangeNotifier* notifier);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_CHANGE_LISTENER_FACTORY_H_
