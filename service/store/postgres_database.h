// PostgresDatabase: the Database on a PostgreSQL database, shared by any
// number of labelport replicas.
//
// Opening it connects once and brings the schema up to date once (see
// postgres_migrations.h; safe when several replicas open one database at
// once). Tables live in the connection's current schema, so one database
// can hold several stores (a URL parameter `options=-csearch_path%3Dname`
// selects a schema). Its parts share one pool of at most `max_connections`
// connections (callers beyond that wait for one to free up); the run-change
// listener has a connection of its own (LISTEN holds it).
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_DATABASE_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/store/database.h"

namespace labelport::store {

class PostgresConnectionPool;

class PostgresDatabase : public Database {
 public:
  struct Options {
    // Required: postgresql://user:password@host:port/database[?param=value]
    // (libpq URL syntax; postgres:// works too).
    std::string url;
    // The most connections the parts open at once (>= 1).
    int max_connections = 8;
  };

  // Connects, then applies pending migrations. INVALID_ARGUMENT for an
  // empty or malformed URL or max_connections < 1; UNAVAILABLE when the
  // server cannot be reached or refuses the credentials; FAILED_PRECONDITION
  // when the schema is newer than this build knows. Messages name the URL
  // with its password redacted.
  static absl::StatusOr<std::unique_ptr<PostgresDatabase>> Create(const Options& options);

  // A PostgresRunChangeListener on the database's URL.
  absl::StatusOr<std::unique_ptr<RunChangeListening>> ListenForRunChanges(
      RunChangeNotifier* notifier) override;

  // The connections the parts share.
  const PostgresConnectionPool& pool() const { return *pool_; }

 private:
  PostgresDatabase(std::string url, std::shared_ptr<PostgresConnectionPool> pool);

  const std::string url_;
  const std::shared_ptr<PostgresConnectionPool> pool_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_DATABASE_H_
