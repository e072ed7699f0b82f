// SqliteDatabase: the Database on one SQLite file (the default deployment).
//
// The file is opened once, in WAL mode with foreign keys on and
// synchronous=NORMAL (a committed run survives a process crash; a power
// loss may drop the last transactions but never corrupts the file), and its
// schema brought up to date once (see sqlite_migrations.h). Its parts share
// one SqlitePool: one write connection behind a mutex and a pool of
// `read_connections` read connections (none for ":memory:"). Processes
// sharing a file wait for each other up to `busy_timeout`; times (leases,
// replica expiry) come from this process's clock, so they need synchronised
// clocks.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_DATABASE_H_
#define LABELPORT_SERVICE_STORE_SQLITE_DATABASE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/store/database.h"

namespace labelport::store {

class SqlitePool;

class SqliteDatabase : public Database {
 public:
  struct Options {
    // Required: the database file, created when missing. ":memory:" gives a
    // private in-memory database (tests).
    std::string path;
    // How long a statement waits for another process's lock before failing
    // with UNAVAILABLE.
    absl::Duration busy_timeout = absl::Seconds(5);
    // Connections of the read pool (0: reads use the write connection).
    // Ignored for ":memory:".
    int read_connections = 4;
    // Runs whose decoded record the run store keeps (0: every read parses
    // the record).
    size_t record_cache_capacity = 4096;
  };

  // Opens (or creates) the database and applies pending migrations.
  // INVALID_ARGUMENT for an empty path or a negative timeout; UNAVAILABLE
  // when the file cannot be opened; FAILED_PRECONDITION when the file's
  // schema is newer than this build knows.
  static absl::StatusOr<std::unique_ptr<SqliteDatabase>> Create(const Options& options);

  absl::StatusOr<std::unique_ptr<RunChangeListening>> ListenForRunChanges(
      RunChangeNotifier* notifier) override;

  // The connections the parts share.
  const SqlitePool& pool() const { return *pool_; }

 private:
  SqliteDatabase(std::shared_ptr<SqlitePool> pool, size_t record_cache_capacity);

  const std::shared_ptr<SqlitePool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_DATABASE_H_
