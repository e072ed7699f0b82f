// Internal to service/store: the one way the SQLite and PostgreSQL stores
// run a body of statements as a transaction on a connection of their
// database (SqlitePool, PostgresConnectionPool).
#ifndef LABELPORT_SERVICE_STORE_TRANSACTION_H_
#define LABELPORT_SERVICE_STORE_TRANSACTION_H_

#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace labelport::store {

// kWrite: the transaction writes (SQLite takes the write lock at BEGIN, so
// that the busy timeout applies to taking it rather than failing on a
// read-to-write upgrade). kRead: it only reads.
enum class TransactionMode { kRead, kWrite };

// Acquires a connection of `pool`, begins a transaction, runs
// `body(connection)` and commits; rolls back and returns the body's error
// when `body` fails (the body returns absl::Status or absl::StatusOr<T>, and
// so does InTransaction). When BEGIN fails and the pool says the connection
// was stale (a pooled PostgreSQL connection the server closed), the whole
// transaction is tried once more on a fresh connection (RetryAfterFailedBegin
// is told of every failed BEGIN, e.g. to drop the connection). Errors of acquiring,
// beginning and committing name `operation`.
//
// `Pool` provides: StatusOr<Lease> Acquire(operation); Status Begin(Lease&,
// mode, operation); bool RetryAfterFailedBegin(Lease&, const Status&);
// void Rollback(Lease&, operation); Status Commit(Lease&, operation); and
// `lease.connection()`, the handle given to `body`. The lease holds the
// connection (and, for SQLite, its lock) until InTransaction returns.
template <typename Pool, typename Body>
auto InTransaction(Pool& pool, TransactionMode mode, absl::string_view operation, Body&& body)
    -> std::invoke_result_t<Body&, decltype(std::declval<typename Pool::Lease&>().connection())> {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool.Acquire(operation);
    if (!lease.ok()) return lease.status();
    if (absl::Status begun = pool.Begin(*lease, mode, operation); !begun.ok()) {
      if (pool.RetryAfterFailedBegin(*lease, begun) && attempt == 0) continue;
      return begun;
    }
    auto result = body(lease->connection());
    if (!result.ok()) {
      pool.Rollback(*lease, operation);
      return result;
    }
    if (absl::Status committed = pool.Commit(*lease, operation); !committed.ok()) return committed;
    return result;
  }
}

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_TRANSACTION_H_
