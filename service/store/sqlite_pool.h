// Internal to service/store: the connections of one SQLite database file,
// shared by the parts of a SqliteDatabase (run store, run-state counter,
// replica directory).
//
// One write connection, guarded by a mutex: transactions (InTransaction on
// this pool) run on it one at a time within a process; processes sharing
// the file wait for each other up to `busy_timeout`. Beside it a pool of
// read-only connections (SqliteReadConnections) for Read(): in WAL mode
// they wait neither for the writer nor for each other. An in-memory
// database (":memory:") has no read pool; Read() uses the write connection.
//
// Open() configures the write connection (extended result codes, busy
// timeout, WAL, foreign keys, synchronous=NORMAL) and applies the pending
// migrations, once.
//
// Thread-safety: every method may be called from any thread.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_POOL_H_
#define LABELPORT_SERVICE_STORE_SQLITE_POOL_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/sqlite_read_connections.h"
#include "service/store/sqlite_statement.h"
#include "service/store/transaction.h"

namespace labelport::store {

class SqlitePool {
 public:
  // Opens (or creates) the file at `path` (":memory:": a private in-memory
  // database) and applies pending migrations, then opens `read_connections`
  // read connections (none for ":memory:"). INVALID_ARGUMENT for an empty
  // path or a negative timeout; UNAVAILABLE when the file cannot be opened;
  // FAILED_PRECONDITION when the file's schema is newer than this build
  // knows or WAL cannot be enabled. Messages start with `component('path'): `.
  static absl::StatusOr<std::shared_ptr<SqlitePool>> Open(const std::string& path,
                                                          absl::Duration busy_timeout,
                                                          int read_connections,
                                                          absl::string_view component);
  ~SqlitePool();
  SqlitePool(const SqlitePool&) = delete;
  SqlitePool& operator=(const SqlitePool&) = delete;

  // The write connection, held (with the pool's mutex) while the lease lives.
  class Lease {
   public:
    Lease(absl::Mutex* mu, sqlite3* db) : mu_(mu), db_(db) {}
    Lease(Lease&& other) noexcept : mu_(std::exchange(other.mu_, nullptr)), db_(other.db_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (mu_ != nullptr) mu_->Unlock();
    }
    sqlite3* connection() const { return db_; }

   private:
    absl::Mutex* mu_;
    sqlite3* db_;
  };

  // The InTransaction protocol (see transaction.h).
  absl::StatusOr<Lease> Acquire(absl::string_view operation);
  absl::Status Begin(Lease& lease, TransactionMode mode, absl::string_view operation);
  bool RetryAfterFailedBegin(Lease&, const absl::Status&) { return false; }
  void Rollback(Lease& lease, absl::string_view operation);
  absl::Status Commit(Lease& lease, absl::string_view operation);

  // Prepares `sql` on a read connection (its statement kept for the next
  // call) and returns `read(statement)`; on the write connection under the
  // mutex when there is no read pool. For single-statement reads that must
  // not wait for writers.
  template <typename Reader>
  auto Read(absl::string_view sql, absl::string_view operation, Reader&& read)
      -> std::invoke_result_t<Reader&, SqliteStatement&> {
    if (readers_ != nullptr) {
      SqliteReadConnections::Lease reader = readers_->Acquire();
      absl::StatusOr<SqliteStatement> statement = reader->Prepare(sql, operation);
      if (!statement.ok()) return statement.status();
      return read(*statement);
    }
    absl::MutexLock lock(&mu_);
    absl::StatusOr<SqliteStatement> statement = SqliteStatement::Prepare(db_, sql, operation);
    if (!statement.ok()) return statement.status();
    return read(*statement);
  }

  // True when Read() uses read connections (a file database).
  bool has_read_connections() const { return readers_ != nullptr; }
  // Connections opened by this pool (the write connection and the read
  // connections): what a database costs, for tests.
  int connections_opened() const { return connections_opened_; }

 private:
  SqlitePool(sqlite3* db, std::unique_ptr<SqliteReadConnections> readers, int connections_opened)
      : db_(db), readers_(std::move(readers)), connections_opened_(connections_opened) {}

  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
  // Null for an in-memory database.
  const std::unique_ptr<SqliteReadConnections> readers_;
  const int connections_opened_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_POOL_H_
