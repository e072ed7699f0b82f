#include "service/store/run_change_listener_factory.h"

#include <utility>

#include "service/store/postgres_run_change_listener.h"

namespace labelport::store {

RunChangeListening::RunChangeListening(std::unique_ptr<PostgresRunChangeListener> listener)
    : listener_(std::move(listener)) {}

RunChangeListening::~RunChangeListening() = default;

absl::StatusOr<std::unique_ptr<RunChangeListening>> ListenForRunChanges(
    const RunStoreLocation& location, RunChangeNotifier* notifier) {
  if (location.postgres_url.empty()) return std::make_unique<RunChangeListening>(nullptr);
  auto listener =
      PostgresRunChangeListener::Start({.url = location.postgres_url, .notifier = notifier});
  if (!listener.ok()) return listener.status();
  return std::make_unique<RunChangeListening>(*std::move(listener));
}

}  // namespace labelport::store
