#include "service/store/sqlite_read_connections.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<SqliteReadConnections>> SqliteReadConnections::Open(
    const std::string& path, int count, absl::Duration busy_timeout) {
  if (count < 1 || path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(absl::StrCat(
        "SqliteReadConnections: needs a database file and at least one connection, got '", path,
        "' and ", count));
  }
  std::unique_ptr<SqliteReadConnections> pool(new SqliteReadConnections);
  for (int i = 0; i < count; ++i) {
    sqlite3* db = nullptr;
    // SQLITE_OPEN_NOMUTEX: a lease gives a connection to one thread at a time.
    const int rc =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto connection = std::make_unique<Connection>(db);
    if (rc != SQLITE_OK) {
      return absl::UnavailableError(
          absl::StrCat("open read connection: ", db != nullptr ? sqlite3_errmsg(db) : "no memory"));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
    absl::Status status = SqliteExec(db, "PRAGMA query_only = ON", "set PRAGMA query_only");
    if (!status.ok()) return status;
    pool->idle_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  return pool;
}

SqliteReadConnections::~SqliteReadConnections() = default;

SqliteReadConnections::Connection::~Connection() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close_v2(db_);
}

absl::StatusOr<SqliteStatement> SqliteReadConnections::Connection::Prepare(
    absl::string_view sql, absl::string_view operation) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(statement);
      return SqliteError(db_, rc, absl::StrCat(operation, " (prepare)"));
    }
    it = statements_.emplace(std::string(sql), statement).first;
  }
  return SqliteStatement::Borrow(db_, it->second, operation);
}

SqliteReadConnections::Lease SqliteReadConnections::Acquire() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<Connection*>* idle) { return !idle->empty(); }, &idle_));
  Connection* connection = idle_.back();
  idle_.pop_back();
  return Lease(this, connection);
}

void SqliteReadConnections::Return(Connection* connection) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(connection);
}

}  // namespace labelport::store
