#include "service/store/run_state_counter_factory.h"

#include "service/store/open_at_location.h"
#include "service/store/postgres_run_state_counter.h"
#include "service/store/sqlite_run_state_counter.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<RunStateCounter>> OpenRunStateCounter(
    const RunStoreLocation& location) {
  return OpenAtLocation<RunStateCounter, PostgresRunStateCounter, SqliteRunStateCounter>(
      location, "OpenRunStateCounter");
}

}  // namespace labelport::store
