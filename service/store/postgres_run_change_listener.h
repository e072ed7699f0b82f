// PostgresRunChangeListener: carries run changes between replicas that share
// a PostgreSQL database (DESIGN.md §11).
//
// PostgresRunStore issues `NOTIFY labelport_run_changes, '<run id>'` in the
// transaction of every UpdateRun, RenameRun and DeleteRun, so PostgreSQL
// delivers it when (and only when) the change commits. This listener keeps
// one connection per replica that LISTENs on that channel and hands each
// payload to a RunChangeNotifier, which wakes the local watchers of that run.
//
// When the connection breaks it reconnects with jittered exponential backoff
// (initial_backoff, doubling up to max_backoff); notifications sent while it
// was away are lost, so after every reconnect it calls NotifyAll() once: every
// watcher re-reads its run. A dead server or network path is noticed through
// TCP keepalives (PostgresConnection::Connect).
//
// Thread-safety: one thread of its own; the notifier is called from it.
// Destruction stops and joins that thread. `notifier` must outlive this.
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_RUN_CHANGE_LISTENER_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_RUN_CHANGE_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/common/unique_fd.h"
#include "service/store/database.h"
#include "service/store/postgres_connection.h"
#include "service/store/run_change_notifier.h"

namespace labelport::store {

// The channel of run-change notifications; the payload is the run id.
inline constexpr absl::string_view kPostgresRunChangeChannel = "labelport_run_changes";

class PostgresRunChangeListener : public RunChangeListening {
 public:
  struct Options {
    // Required: the database URL (as PostgresDatabase::Options::url).
    std::string url;
    // Required: receives every notification.
    RunChangeNotifier* notifier = nullptr;
    absl::Duration initial_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(5);
  };

  // Connects and LISTENs once before returning, then listens on its own
  // thread. INVALID_ARGUMENT without a notifier or for a bad URL,
  // UNAVAILABLE when the first connection fails (messages never hold the
  // password).
  static absl::StatusOr<std::unique_ptr<PostgresRunChangeListener>> Start(Options options);

  ~PostgresRunChangeListener() override;
  PostgresRunChangeListener(const PostgresRunChangeListener&) = delete;
  PostgresRunChangeListener& operator=(const PostgresRunChangeListener&) = delete;

  // How many times it has connected and LISTENed (1 after Start; +1 per
  // reconnect).
  int64_t connections() const { return connections_.load(); }

 private:
  PostgresRunChangeListener(Options options, std::unique_ptr<PostgresConnection> connection,
                            common::UniqueFd wake);

  void Loop();
  // Waits until the connection has input (true) or Stop was asked (false).
  bool WaitForInput(int socket);
  // Sleeps `pause` unless Stop is asked first (then false).
  bool Pause(absl::Duration pause);

  const Options options_;
  std::unique_ptr<PostgresConnection> connection_;
  // An eventfd written by the destructor to wake the thread from poll().
  const common::UniqueFd wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> connections_{1};
  std::thread thread_;
};

// Connects to `url` and LISTENs on kPostgresRunChangeChannel.
absl::StatusOr<std::unique_ptr<PostgresConnection>> ConnectRunChangeListener(
    const std::string& url);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_RUN_CHANGE_LISTENER_H_
