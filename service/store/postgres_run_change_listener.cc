#include "service/store/postgres_run_change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace labelport::store {

absl::StatusOr<std::unique_ptr<PostgresConnection>> ConnectRunChangeListener(
    const std::string& url) {
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection = PostgresConnection::Connect(url);
  if (!connection.ok()) return connection.status();
  absl::Status listening = (*connection)
                               ->ExecScript(absl::StrCat("LISTEN ", kPostgresRunChangeChannel),
                                            "listen for run changes");
  if (!listening.ok()) return listening;
  return connection;
}

absl::StatusOr<std::unique_ptr<PostgresRunChangeListener>> PostgresRunChangeListener::Start(
    Options options) {
  if (options.notifier == nullptr) {
    return absl::InvalidArgumentError("PostgresRunChangeListener: no notifier");
  }
  if (!IsPostgresUrl(options.url)) {
    return absl::InvalidArgumentError(absl::StrCat("PostgresRunChangeListener('",
                                                   RedactPostgresUrl(options.url),
                                                   "'): the URL must start with postgresql://"));
  }
  absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
      ConnectRunChangeListener(options.url);
  if (!connection.ok()) return connection.status();
  common::UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("PostgresRunChangeListener: eventfd failed (errno ", errno, ")"));
  }
  return std::unique_ptr<PostgresRunChangeListener>(
      new PostgresRunChangeListener(std::move(options), *std::move(connection), std::move(wake)));
}

PostgresRunChangeListener::PostgresRunChangeListener(Options options,
                                                     std::unique_ptr<PostgresConnection> connection,
                                                     common::UniqueFd wake)
    : options_(std::move(options)), connection_(std::move(connection)), wake_(std::move(wake)) {
  thread_ = std::thread([this] { Loop(); });
}

PostgresRunChangeListener::~PostgresRunChangeListener() {
  stopping_ = true;
  const uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

bool PostgresRunChangeListener::WaitForInput(int socket) {
  pollfd fds[2] = {{.fd = wake_.get(), .events = POLLIN, .revents = 0},
                   {.fd = socket, .events = POLLIN, .revents = 0}};
  while (!stopping_) {
    // No timeout: an idle replica wakes only when PostgreSQL sends something.
    const int ready = poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[1].revents != 0) return true;  // errors surface when reading
    if (fds[0].revents != 0) return false;
  }
  return false;
}

bool PostgresRunChangeListener::Pause(absl::Duration pause) {
  pollfd wake = {.fd = wake_.get(), .events = POLLIN, .revents = 0};
  const absl::Time until = absl::Now() + pause;
  while (!stopping_) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    (void)poll(&wake, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
  }
  return false;
}

void PostgresRunChangeListener::Loop() {
  absl::BitGen bitgen;
  absl::Duration backoff = options_.initial_backoff;
  while (!stopping_) {
    if (connection_ == nullptr) {
      absl::StatusOr<std::unique_ptr<PostgresConnection>> connection =
          ConnectRunChangeListener(options_.url);
      if (!connection.ok()) {
        common::LogWarning(absl::StrCat("run change listener: cannot reconnect (retrying in ",
                                        absl::FormatDuration(backoff),
                                        "): ", connection.status().message()));
        // Full jitter keeps replicas that lost the server together from
        // reconnecting in step.
        if (!Pause(absl::Uniform(bitgen, 0.0, 1.0) * backoff + absl::Milliseconds(1))) {
          break;
        }
        backoff = std::min(2 * backoff, options_.max_backoff);
        continue;
      }
      connection_ = *std::move(connection);
      backoff = options_.initial_backoff;
      connections_.fetch_add(1);
      common::LogInfo("run change listener: reconnected; every watcher re-reads its run");
      options_.notifier->NotifyAll();
    }
    if (!WaitForInput(connection_->socket())) break;
    absl::StatusOr<std::vector<std::string>> payloads =
        connection_->ReceiveNotifications("run change listener");
    if (!payloads.ok()) {
      common::LogWarning(
          absl::StrCat("run change listener: lost its connection: ", payloads.status().message()));
      connection_.reset();
      continue;
    }
    for (const std::string& run_id : *payloads) options_.notifier->Notify(run_id);
  }
}

}  // namespace labelport::store
