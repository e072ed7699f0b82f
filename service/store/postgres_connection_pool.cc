#include "service/store/postgres_connection_pool.h"

#include <utility>

namespace labelport::store {

PostgresConnectionPool::PostgresConnectionPool(std::string url, int max_connections,
                                               Initializer initialize)
    : url_(std::move(url)),
      max_connections_(max_connections < 1 ? 1 : max_connections),
      initialize_(std::move(initialize)) {}

PostgresConnectionPool::~PostgresConnectionPool() = default;

absl::StatusOr<PostgresConnectionPool::Lease> PostgresConnectionPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &PostgresConnectionPool::CanAcquire));
    if (!idle_.empty()) {
      std::unique_ptr<PostgresConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_;
  }
  // Connecting takes a round trip or more: done outside the lock.
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
      PostgresConnection::Connect(url_);
  absl::Status status = connection.status();
  if (status.ok() && initialize_) status = initialize_(**connection);
  if (!status.ok()) {
    Forget();
    return status;
  }
  return Lease(this, *std::move(connection));
}

void PostgresConnectionPool::Return(std::unique_ptr<PostgresConnection> connection) {
  if (!connection->healthy() || !connection->idle()) {
    connection.reset();
    Forget();
    return;
  }
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(connection));
}

void PostgresConnectionPool::DropIdle() {
  std::vector<std::unique_ptr<PostgresConnection>> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
  }
}

bool PostgresConnectionPool::CanAcquire() const {
  return !idle_.empty() || open_ < max_connections_;
}

void PostgresConnectionPool::Forget() {
  absl::MutexLock lock(&mu_);
  --open_;
}

}  // namespace labelport::store
