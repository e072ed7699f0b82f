// Internal to the store layer: the read connections of a SqlitePool (the
// connections of one SqliteDatabase), each keeping its prepared statements.
//
// In WAL mode readers never wait for the writer, nor the writer for
// readers: reads on these connections run beside the pool's one write
// connection and beside each other, instead of queueing for it. Each read
// statement sees every transaction committed before it started (a write
// acknowledged by the store is visible to the next read on any connection).
// The connections are opened with PRAGMA query_only, so a bug cannot write
// through them.
//
// Thread-safety: Acquire may be called from any thread; a Lease is used by
// one thread at a time and returns its connection when destroyed.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_READ_CONNECTIONS_H_
#define LABELPORT_SERVICE_STORE_SQLITE_READ_CONNECTIONS_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/store/sqlite_statement.h"

namespace labelport::store {

class SqliteReadConnections {
 public:
  // Opens `count` (>= 1) connections to the existing WAL database at `path`
  // (a file, not ":memory:"). UNAVAILABLE when one cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteReadConnections>> Open(const std::string& path,
                                                                     int count,
                                                                     absl::Duration busy_timeout);
  ~SqliteReadConnections();
  SqliteReadConnections(const SqliteReadConnections&) = delete;
  SqliteReadConnections& operator=(const SqliteReadConnections&) = delete;

  // One connection and its statement cache.
  class Connection {
   public:
    explicit Connection(sqlite3* db) : db_(db) {}
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sqlite3* db() const { return db_; }
    // The statement for `sql`, prepared on first use and kept; reset (and
    // its bindings cleared) when the returned statement is destroyed.
    absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql, absl::string_view operation);

   private:
    sqlite3* const db_;
    absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
  };

  class Lease {
   public:
    Lease(SqliteReadConnections* pool, Connection* connection)
        : pool_(pool), connection_(connection) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), connection_(std::exchange(other.connection_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (connection_ != nullptr) pool_->Return(connection_);
    }
    Connection* operator->() const { return connection_; }

   private:
    SqliteReadConnections* pool_;
    Connection* connection_;
  };

  // An idle connection; waits while all are in use (reads take
  // microseconds).
  Lease Acquire();

 private:
  SqliteReadConnections() = default;
  void Return(Connection* connection);

  std::vector<std::unique_ptr<Connection>> connections_;
  absl::Mutex mu_;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_READ_CONNECTIONS_H_
