// PostgresConnectionPool: a bounded set of connections to one database,
// shared by the parts of a PostgresDatabase (run store, run-state counter,
// replica directory) and their threads.
//
// Connections are opened lazily, up to `max_connections`; a caller waits
// when all are in use. A connection returned broken (or inside a failed
// transaction) is closed rather than reused, so a restarted server costs one
// failed call per pooled connection at most (InTransaction on this pool
// retries a transaction whose BEGIN found its connection dead, after
// dropping the other idle ones).
// Thread-safety: Acquire may be called from any thread; a Lease is used by
// one thread and returns its connection when destroyed.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_POOL_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/store/postgres_connection.h"
#include "service/store/transaction.h"

namespace labelport::store {

class PostgresConnectionPool {
 public:
  // `max_connections` >= 1.
  PostgresConnectionPool(std::string url, int max_connections);

  // A pool for `url` whose schema is brought up to date on its first
  // connection (see postgres_migrations.h). INVALID_ARGUMENT for a URL that
  // is not postgresql:// or max_connections < 1; otherwise the errors of
  // PostgresConnection::Connect and ApplyPostgresMigrations. Messages start
  // with `component` and the URL with its password redacted.
  static absl::StatusOr<std::shared_ptr<PostgresConnectionPool>> OpenMigrated(
      const std::string& url, int max_connections, absl::string_view component);
  ~PostgresConnectionPool();
  PostgresConnectionPool(const PostgresConnectionPool&) = delete;
  PostgresConnectionPool& operator=(const PostgresConnectionPool&) = delete;

  class Lease {
   public:
    Lease(PostgresConnectionPool* pool, std::unique_ptr<PostgresConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (connection_ != nullptr) pool_->Return(std::move(connection_));
    }

    PostgresConnection& operator*() const { return *connection_; }
    PostgresConnection* operator->() const { return connection_.get(); }
    PostgresConnection& connection() const { return *connection_; }
    // Closes the connection instead of returning it.
    void Discard() {
      connection_.reset();
      pool_->Forget();
    }

   private:
    PostgresConnectionPool* pool_;
    std::unique_ptr<PostgresConnection> connection_;
  };

  // An idle connection, or a new one; UNAVAILABLE / INVALID_ARGUMENT when a
  // new one cannot be opened (see PostgresConnection::Connect).
  absl::StatusOr<Lease> Acquire();

  // Closes every idle connection (e.g. after one of them was found dead: the
  // server restarted, and the others are dead too).
  void DropIdle();

  // The InTransaction protocol (see transaction.h). A connection whose
  // BEGIN fails is closed; when it was dead (UNAVAILABLE: the server closed
  // it meanwhile, and likely the other idle ones too) the idle connections
  // are dropped and the transaction is retried once.
  absl::StatusOr<Lease> Acquire(absl::string_view operation);
  absl::Status Begin(Lease& lease, TransactionMode mode, absl::string_view operation);
  bool RetryAfterFailedBegin(Lease& lease, const absl::Status& status);
  void Rollback(Lease& lease, absl::string_view operation);
  absl::Status Commit(Lease& lease, absl::string_view operation);

  // Connections opened since the pool was made (for tests: what a database
  // costs).
  int connections_opened() const;

 private:
  void Return(std::unique_ptr<PostgresConnection> connection);
  void Forget();
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string url_;
  const int max_connections_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_ ABSL_GUARDED_BY(mu_);
  // Connections open (idle or leased) or being opened.
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int opened_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_POOL_H_
