// Opens the RunStateCounter of the run store a server is configured with
// (the same SQLite file or PostgreSQL database).
#ifndef LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_FACTORY_H_
#define LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "service/store/run_state_counter.h"
#include "service/store/run_store_factory.h"

namespace labelport::store {

// INVALID_ARGUMENT when none or both locations are set; otherwise the
// errors of SqliteRunStateCounter::Create or PostgresRunStateCounter::Create
// (never containing a password).
absl::StatusOr<std::unique_ptr<RunStateCounter>> OpenRunStateCounter(
    const RunStoreLocation& location);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_STATE_COUNTER_FACTORY_H_
