// SimApp: darwin-sim's request pipeline, independent of sockets. For each
// request it applies, in order: control endpoints (/_sim/, exempt from
// everything below), injected faults, the per-key rate limit, the V7 API
// router, configured latency, and the request log.
#ifndef LABELPORT_TESTS_DARWIN_SIM_SIM_APP_H_
#define LABELPORT_TESTS_DARWIN_SIM_SIM_APP_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "api_router.h"
#include "control_api.h"
#include "faults.h"
#include "http_types.h"
#include "rate_limiter.h"
#include "request_log.h"
#include "runtime_config.h"
#include "store.h"

namespace labelport::darwin_sim {

struct SimAppOptions {
  std::vector<TeamSeed> teams;
  int64_t rate_limit_per_minute = 0;
  int64_t latency_ms = 0;
  int64_t processing_delay_ms = 0;
  int64_t export_delay_ms = 0;
};

// What the transport must do with one request.
struct Outcome {
  SimResponse response;
  FaultAction action = FaultAction::kNone;
  int64_t delay_ms = 0;  // Wait this long before answering.
};

class SimApp {
 public:
  // Errors: InvalidArgument/AlreadyExists for inconsistent team seeds.
  static absl::StatusOr<std::unique_ptr<SimApp>> Create(SimAppOptions options);

  // Thread-safe.
  Outcome Handle(const SimRequest& req);

  Store& store() { return store_; }
  RuntimeConfig& config() { return config_; }

 private:
  explicit SimApp(SimAppOptions options);

  RuntimeConfig config_;
  Store store_;
  FaultRegistry faults_;
  RateLimiter limiter_;
  RequestLog log_;
  ApiRouter router_;
  ControlApi control_;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_SIM_APP_H_
