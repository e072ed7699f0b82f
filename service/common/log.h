// Minimal structured logging to stderr: one line per event,
// "<UTC time> <LEVEL> <message> [request_id=<id>]", or with SetJsonLogs(true)
// one JSON object per line: {"time","level","message"[,"request_id"]}.
// Thread-safe. Never pass credentials: nothing here redacts.
//
// Lines keep the order they were logged in. Debug and info lines are
// written in batches by a thread of the logger's own, about a millisecond
// after Log returns (so a busy server makes one write per many lines); warnings and
// errors are written, with every line before them, before Log returns. The
// rest is written at exit (std::exit or a return from main) or by
// FlushLogs(); a crash may lose the last info lines, never a warning.
//
// Request ids: a line gets `request_id` when it is logged on a thread inside
// a ScopedRequestId (the API layer opens one around the work it runs for an
// RPC) or when the id is passed explicitly.
#ifndef LABELPORT_SERVICE_COMMON_LOG_H_
#define LABELPORT_SERVICE_COMMON_LOG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Parses "debug", "info", "warning" or "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
void SetLogLevel(LogLevel level);
// Writes JSON lines instead of text when true.
void SetJsonLogs(bool json);

void Log(LogLevel level, absl::string_view message);
// Logs with an explicit request id (empty: the thread's current one, if any).
void Log(LogLevel level, absl::string_view message, absl::string_view request_id);

// Makes `request_id` the current request id of this thread until the scope
// ends (the previous one is restored). Only for work that stays on the
// thread: do not hold one across a co_await. `request_id` must outlive it.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(absl::string_view request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  absl::string_view previous_;
};

// Writes every line logged so far before returning.
void FlushLogs();

// This thread's current request id; empty outside a ScopedRequestId.
absl::string_view CurrentRequestId();
inline void LogDebug(absl::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_LOG_H_
