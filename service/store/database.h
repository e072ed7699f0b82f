// Database: the store a server is configured with (--store), as one object
// per database: SQLite on a file (SqliteDatabase) or PostgreSQL at a URL
// shared by several replicas (PostgresDatabase). Opening it opens its
// connections once and brings its schema up to date once; the ports the
// server needs are parts of it and share those connections:
//   run_store()          the runs (RunStore)
//   run_state_counter()  runs by state, for metrics and quotas
//   replica_directory()  the live replicas sharing the database
// and ListenForRunChanges() starts what carries run changes between
// replicas (PostgreSQL LISTEN/NOTIFY; nothing for SQLite).
//
// The server sees this header, never SQLite or libpq. Thread-safety: the
// parts are thread-safe (see each port); they live as long as the database.
#ifndef LABELPORT_SERVICE_STORE_DATABASE_H_
#define LABELPORT_SERVICE_STORE_DATABASE_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "service/store/replica_directory.h"
#include "service/store/run_change_notifier.h"
#include "service/store/run_state_counter.h"
#include "service/store/run_store.h"

namespace labelport::store {

// Where the database is: exactly one of the two is set.
struct DatabaseLocation {
  // The SQLite database file.
  std::string sqlite_path = {};
  // postgresql://user:password@host:port/database[?params] (a secret: it
  // holds the password).
  std::string postgres_url = {};
};

// Owns a run-change listener; destroying it stops the listener (and joins
// its thread).
class RunChangeListening {
 public:
  virtual ~RunChangeListening() = default;
};

class Database {
 public:
  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  RunStore& run_store() { return *parts_.run_store; }
  RunStateCounter& run_state_counter() { return *parts_.run_state_counter; }
  ReplicaDirectory& replica_directory() { return *parts_.replica_directory; }

  // Hands every run change committed by any replica of the database to
  // `notifier`, which must outlive the result. PostgreSQL: connects and
  // LISTENs once before returning (INVALID_ARGUMENT without a notifier,
  // UNAVAILABLE when the connection fails; never containing a password).
  // SQLite: one replica, so an object that listens to nothing.
  virtual absl::StatusOr<std::unique_ptr<RunChangeListening>> ListenForRunChanges(
      RunChangeNotifier* notifier) = 0;

 protected:
  // The ports of one database, all set; they share its connections (each
  // holds them as long as it lives).
  struct Parts {
    std::unique_ptr<RunStore> run_store;
    std::unique_ptr<RunStateCounter> run_state_counter;
    std::unique_ptr<ReplicaDirectory> replica_directory;
  };

  explicit Database(Parts parts) : parts_(std::move(parts)) {}

 private:
  const Parts parts_;
};

// Opens (creating and migrating as needed) the database at `location` with
// default options. INVALID_ARGUMENT when none or both are set; otherwise the
// errors of SqliteDatabase::Create or PostgresDatabase::Create, whose
// messages never contain a password.
absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(const DatabaseLocation& location);

// "sqlite:<path>" or the PostgreSQL URL with its password redacted, for logs.
std::string DescribeDatabase(const DatabaseLocation& location);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_DATABASE_H_
