// Internal to the store layer: a connection pool to a PostgreSQL run store's
// database for the run store and the components that live beside it
// (PostgresReplicaDirectory, PostgresRunStateCounter), with every migration
// applied, so a component works on a fresh database too.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_COMPONENT_POOL_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_COMPONENT_POOL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/store/postgres_connection_pool.h"

namespace labelport::store {

// INVALID_ARGUMENT for an empty URL or one that is not postgresql://;
// otherwise the errors of PostgresConnection::Connect and
// ApplyPostgresMigrations. Messages start with `component` and the URL with
// its password redacted.
absl::StatusOr<std::unique_ptr<PostgresConnectionPool>> OpenPostgresComponentPool(
    const std::string& url, int max_connections, absl::string_view component);

// Runs `body` in a transaction on a pooled connection (once more on a fresh
// connection when the pooled one turns out dead at BEGIN). Rolls back when
// `body` fails and returns its error.
absl::Status InPostgresTransaction(PostgresConnectionPool& pool, absl::string_view operation,
                                   const std::function<absl::Status(PostgresConnection&)>& body);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_COMPONENT_POOL_H_
