#include "service/common/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace labelport::common {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{false};
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

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). The date and time up to the second are
// formatted once per second and thread; a busy server logs many lines in
// each.
std::string FormatLogTime(absl::Time now) {
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local std::string cached_prefix;
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  if (second != cached_second) {
    cached_prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  const int64_t milli = millis - second * 1000;
  return absl::StrCat(cached_prefix, ".", absl::Dec(milli, absl::kZeroPad3), "Z");
}

// Lines go to stderr in the order they were logged, in batches: Write
// appends to a buffer, and a thread of its own writes whatever has gathered
// a millisecond after the first line with one write(2). Under load that is
// one system call and one wake-up per many lines instead of per line.
// Warnings and errors (and a full buffer) are written before Write
// returns, with everything before them.
class LogWriter {
 public:
  static LogWriter& Get() {
    // Never destroyed: lines may be logged until the very end of the process.
    static LogWriter* const writer = [] {
      auto* w = new LogWriter;
      std::atexit([] { Get().Flush(); });
      std::thread([w] { w->Loop(); }).detach();
      return w;
    }();
    return *writer;
  }

  void Write(absl::string_view line, bool now) {
    {
      absl::MutexLock lock(&mu_);
      pending_.append(line.data(), line.size());
      if (!now && pending_.size() < kMaxPending) return;
    }
    Flush();
  }

  // Writes everything logged so far.
  void Flush() {
    absl::MutexLock write_lock(&write_mu_);
    std::string batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(pending_);
    }
    if (batch.empty()) return;
    std::fwrite(batch.data(), 1, batch.size(), stderr);
    std::fflush(stderr);
  }

 private:
  // Beyond this, a caller writes itself rather than let the buffer grow
  // (stderr is a full pipe, say).
  static constexpr size_t kMaxPending = 1 << 20;
  static constexpr absl::Duration kLinger = absl::Milliseconds(1);

  void Loop() {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::string* pending) { return !pending->empty(); }, &pending_));
      }
      // Lines logged meanwhile join the batch without waking this thread:
      // at most one wake-up and one write per kLinger however busy the
      // server is.
      absl::SleepFor(kLinger);
      Flush();
    }
  }

  // Held while writing, so that batches reach stderr in the order they were
  // taken from `pending_`.
  absl::Mutex write_mu_;
  absl::Mutex mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  std::string pending_ ABSL_GUARDED_BY(mu_);
};

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
  const std::string time = FormatLogTime(absl::Now());
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
  LogWriter::Get().Write(line, /*now=*/level >= LogLevel::kWarning);
}

void FlushLogs() { LogWriter::Get().Flush(); }

}  // namespace labelport::common
