// Minimal structured logging to stderr: one line per event,
// "<UTC time> <LEVEL> <message> key=value ...". Thread-safe.
// Never pass credentials: nothing here redacts.
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
inline void LogDebug(absl::string_view m) { Log(LogLevel::kDebug, m); }
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_LOG_H_
