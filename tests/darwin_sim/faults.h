// FaultRegistry: test-injected faults for the next N requests that match a
// method and a path pattern (darwin-api.md §10.6). Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_FAULTS_H_
#define LABELPORT_TESTS_DARWIN_SIM_FAULTS_H_

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "boost/json.hpp"

namespace labelport::darwin_sim {

enum class FaultAction {
  kNone,       // Answer with `status` (if non-zero) instead of the handler.
  kDrop,       // Send part of a response header, then close the connection.
  kTruncate,   // Run the handler, send the full headers but half the body,
               // close.
  kMalformed,  // Answer `status` (default 200) with a JSON type and invalid
               // JSON.
};

struct Fault {
  int64_t id = 0;
  std::string method;          // "" or "*" matches any method.
  std::string path_pattern;    // Glob: '*' matches any run of characters.
  int64_t remaining = 1;       // Requests still to affect.
  int status = 0;              // 0: keep the handler's status.
  std::string body;            // Optional body for `status` faults.
  int64_t retry_after_s = -1;  // Retry-After header when >= 0.
  int64_t latency_ms = 0;      // Extra delay before answering.
  FaultAction action = FaultAction::kNone;
  // Chance (0, 1] that a matching request is affected; a request the fault
  // spares does not use up `remaining`. With several faults, each matching
  // one gets its own draw, oldest first.
  double probability = 1.0;
};

// True when `text` matches `pattern` ('*' = any run of characters).
bool GlobMatch(std::string_view pattern, std::string_view text);

// Parses a fault from the JSON of POST /_sim/faults:
// {"method", "path", "count", "status", "body", "retry_after", "latency_ms",
//  "action": "status"|"drop"|"truncate"|"malformed", "probability"}.
// Errors: InvalidArgument naming the bad field.
absl::StatusOr<Fault> FaultFromJson(const boost::json::object& o);
boost::json::object FaultToJson(const Fault& f);

class FaultRegistry {
 public:
  // Registers `f` (its id is assigned) and returns the id.
  int64_t Add(Fault f);
  // If a registered fault matches (and its probability draw fires),
  // consumes one use of the oldest such fault.
  std::optional<Fault> Take(std::string_view method, std::string_view path);
  void Clear();
  std::vector<Fault> List() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Draws for probabilistic faults; a fixed seed, so a test's sequence of
  // draws is the same on every run (the order of concurrent requests is not).
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_){20261206};
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_FAULTS_H_
