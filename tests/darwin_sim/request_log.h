// RequestLog: bounded in-memory log of the requests darwin-sim answered, for
// tests to assert what a client sent. The Authorization value is redacted on
// the way in, so keys never reach the log. Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_REQUEST_LOG_H_
#define LABELPORT_TESTS_DARWIN_SIM_REQUEST_LOG_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "boost/json.hpp"

namespace labelport::darwin_sim {

struct LoggedRequest {
  int64_t seq = 0;
  std::string time;
  std::string method;
  std::string path;
  std::string query;
  std::map<std::string, std::string> headers;  // Authorization redacted.
  int64_t body_size = 0;
  int status = 0;     // 0 when the connection was dropped.
  std::string fault;  // Injected fault action, or "".
};

class RequestLog {
 public:
  explicit RequestLog(size_t capacity = 20000) : capacity_(capacity) {}

  // Stores `entry` (redacting its Authorization header) and returns its seq.
  int64_t Add(LoggedRequest entry);
  // Entries with seq > `after`, oldest first, at most `limit`.
  boost::json::array ToJson(int64_t after, size_t limit) const;
  void Clear();

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<LoggedRequest> entries_ ABSL_GUARDED_BY(mu_);
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
};

// "ApiKey <redacted>" style redaction: keeps the scheme word only.
std::string RedactAuthorization(std::string_view value);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_REQUEST_LOG_H_
