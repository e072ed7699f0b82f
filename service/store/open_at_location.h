// Internal to service/store: the one way the factories (OpenRunStore,
// OpenReplicaDirectory, OpenRunStateCounter) pick the SQLite or the
// PostgreSQL implementation of a store port for a RunStoreLocation.
#ifndef LABELPORT_SERVICE_STORE_OPEN_AT_LOCATION_H_
#define LABELPORT_SERVICE_STORE_OPEN_AT_LOCATION_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/store/run_store_factory.h"

namespace labelport::store {

// `Postgres::Create` with Options{.url} when `location` has a PostgreSQL
// URL, else `Sqlite::Create` with Options{.path}, as an `Interface`.
// INVALID_ARGUMENT naming `opener` when none or both locations are set;
// otherwise the errors of the Create called.
template <typename Interface, typename Postgres, typename Sqlite>
absl::StatusOr<std::unique_ptr<Interface>> OpenAtLocation(const RunStoreLocation& location,
                                                          absl::string_view opener) {
  if (location.sqlite_path.empty() == location.postgres_url.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(opener, ": give exactly one of a SQLite path and a PostgreSQL URL"));
  }
  if (!location.postgres_url.empty()) {
    typename Postgres::Options options;
    options.url = location.postgres_url;
    absl::StatusOr<std::unique_ptr<Postgres>> opened = Postgres::Create(std::move(options));
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<Interface>(*std::move(opened));
  }
  typename Sqlite::Options options;
  options.path = location.sqlite_path;
  absl::StatusOr<std::unique_ptr<Sqlite>> opened = Sqlite::Create(std::move(options));
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<Interface>(*std::move(opened));
}

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_OPEN_AT_LOCATION_H_
