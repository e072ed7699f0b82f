#include "service/common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace labelport::common {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{false};
absl::Mutex g_mu;
thread_local absl::string_view t_request_id;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

std::string JsonEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") return LogLevel::kDebug;
  if (n == "info") return LogLevel::kInfo;
  if (n == "warning" || n == "warn") return LogLevel::kWarning;
  if (n == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("log level '", name, "' is not one of debug, info, warning, error"));
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetJsonLogs(bool json) { g_json = json; }

ScopedRequestId::ScopedRequestId(absl::string_view request_id) : previous_(t_request_id) {
  t_request_id = request_id;
}

ScopedRequestId::~ScopedRequestId() { t_request_id = previous_; }

absl::string_view CurrentRequestId() { return t_request_id; }

void Log(LogLevel level, absl::string_view message) { Log(level, message, ""); }

void Log(LogLevel level, absl::string_view message, absl::string_view request_id) {
  if (static_cast<int>(level) < g_level.load()) return;
  if (request_id.empty()) request_id = t_request_id;
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  if (g_json) {
    line = absl::StrCat(R"({"time":")", time, R"(","level":")", LevelName(level),
                        R"(","message":")", JsonEscape(message), "\"");
    if (!request_id.empty())
      absl::StrAppend(&line, R"(,"request_id":")", JsonEscape(request_id), "\"");
    line += "}\n";
  } else {
    line = absl::StrCat(time, " ", LevelName(level), " ", message);
    if (!request_id.empty()) absl::StrAppend(&line, " request_id=", request_id);
    line += "\n";
  }
  absl::MutexLock lock(&g_mu);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace labelport::common
