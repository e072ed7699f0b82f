#include "service/store/postgres_connection_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/store/postgres_migrations.h"
#include "service/store/run_records.h"

namespace labelport::store {

absl::StatusOr<std::shared_ptr<PostgresConnectionPool>> PostgresConnectionPool::OpenMigrated(
    const std::string& url, int max_connections, absl::string_view component) {
  const std::string prefix = absl::StrCat(component, "('", RedactPostgresUrl(url), "'): ");
  if (!IsPostgresUrl(url)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix,
                     "the URL must start with postgresql:// (e.g. "
                     "postgresql://user:password@host:5432/database)"));
  }
  if (max_connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "max_connections must be at least 1, got ", max_connections));
  }
  auto pool = std::make_shared<PostgresConnectionPool>(url, max_connections);
  absl::StatusOr<Lease> connection = pool->Acquire();
  if (!connection.ok()) return run_records::Prefixed(connection.status(), prefix);
  absl::Status migrated = ApplyPostgresMigrations(**connection, PostgresMigrations());
  if (!migrated.ok()) return run_records::Prefixed(migrated, prefix);
  return pool;
}

PostgresConnectionPool::PostgresConnectionPool(std::string url, int max_connections)
    : url_(std::move(url)), max_connections_(max_connections < 1 ? 1 : max_connections) {}

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
    ++opened_total_;
  }
  // Connecting takes a round trip or more: done outside the lock.
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
      PostgresConnection::Connect(url_);
  if (!connection.ok()) {
    Forget();
    return connection.status();
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

int PostgresConnectionPool::connections_opened() const {
  absl::MutexLock lock(&mu_);
  return opened_total_;
}

absl::StatusOr<PostgresConnectionPool::Lease> PostgresConnectionPool::Acquire(
    absl::string_view operation) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return run_records::Prefixed(lease.status(), absl::StrCat(operation, ": "));
  return lease;
}

absl::Status PostgresConnectionPool::Begin(Lease& lease, TransactionMode /*mode*/,
                                           absl::string_view operation) {
  return lease->ExecScript("BEGIN", absl::StrCat(operation, ": begin transaction"));
}

bool PostgresConnectionPool::RetryAfterFailedBegin(Lease& lease, const absl::Status& status) {
  lease.Discard();
  if (status.code() != absl::StatusCode::kUnavailable) return false;
  DropIdle();
  return true;
}

void PostgresConnectionPool::Rollback(Lease& lease, absl::string_view operation) {
  if (lease->healthy()) (void)lease->ExecScript("ROLLBACK", absl::StrCat(operation, ": roll back"));
}

absl::Status PostgresConnectionPool::Commit(Lease& lease, absl::string_view operation) {
  return lease->ExecScript("COMMIT", absl::StrCat(operation, ": commit"));
}

}  // namespace labelport::store
