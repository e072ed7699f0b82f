#include "service/store/run_state_counter_factory.h"

#include <utility>

#include "absl/status/status.h"
#include "service/store/postgres_run_state_counter.h"
#include "service/store/sqlite_run_state_counter.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<RunStateCounter>> OpenRunStateCounter(
    const RunStoreLocation& location) {
  if (location.sqlite_path.empty() == location.postgres_url.empty()) {
    return absl::InvalidArgumentError(
        "OpenRunStateCounter: give exactly one of a SQLite path and a PostgreSQL URL");
  }
  if (!location.postgres_url.empty()) {
    auto counter = PostgresRunStateCounter::Create({.url = location.postgres_url});
    if (!counter.ok()) return counter.status();
    return std::unique_ptr<RunStateCounter>(*std::move(counter));
  }
  auto counter = SqliteRunStateCounter::Create({.path = location.sqlite_path});
  if (!counter.ok()) return counter.status();
  return std::unique_ptr<RunStateCounter>(*std::move(counter));
}

}  // namespace labelport::store
