#include "sim_app.h"

#include "absl/strings/match.h"
#include "ids.h"
#include "payload_compression.h"

namespace labelport::darwin_sim {

SimApp::SimApp(SimAppOptions options)
    : store_(&config_),
      router_(&store_),
      control_(&store_, &faults_, &log_, &limiter_, std::move(options.teams)) {
  config_.rate_limit_per_minute = options.rate_limit_per_minute;
  config_.latency_ms = options.latency_ms;
  config_.processing_delay_ms = options.processing_delay_ms;
  config_.export_delay_ms = options.export_delay_ms;
}

absl::StatusOr<std::unique_ptr<SimApp>> SimApp::Create(SimAppOptions options) {
  for (const TeamSeed& seed : options.teams) {
    if (seed.slug.empty() || seed.api_key.empty()) {
      return absl::InvalidArgumentError("every team needs a slug and an API key");
    }
  }
  std::unique_ptr<SimApp> app(new SimApp(std::move(options)));
  if (absl::Status s = app->control_.Seed(); !s.ok()) return s;
  return app;
}

Outcome SimApp::Handle(const SimRequest& in) {
  Outcome out;
  // Compressed SDK payloads are inflated before anything else looks at them.
  SimRequest inflated;
  const SimRequest* req_ptr = &in;
  if (in.Header("x-darwin-payload-compression-version") == "1" && !in.body.empty()) {
    absl::StatusOr<std::string> body = InflateZlib(in.body);
    if (!body.ok()) {
      out.response = ErrorResponse(400, body.status().message());
      return out;
    }
    inflated = in;
    inflated.body = std::move(*body);
    req_ptr = &inflated;
  }
  const SimRequest& req = *req_ptr;
  if (req.path == "/_sim" || absl::StartsWith(req.path, "/_sim/")) {
    out.response = control_.Handle(req);
    return out;
  }
  std::optional<Fault> fault = faults_.Take(req.method, req.path);
  std::string fault_name;
  bool run_handler = true;
  if (fault.has_value()) {
    out.delay_ms += fault->latency_ms;
    switch (fault->action) {
      case FaultAction::kNone:
        if (fault->status != 0) {
          fault_name = "status";
          run_handler = false;
          if (fault->body.empty()) {
            out.response = ErrorResponse(fault->status, "injected fault");
          } else {
            out.response.status = fault->status;
            out.response.content_type = "application/json";
            out.response.body = fault->body;
          }
        } else {
          fault_name = "latency";
        }
        break;
      case FaultAction::kDrop:
        fault_name = "drop";
        run_handler = false;
        out.action = FaultAction::kDrop;
        break;
      case FaultAction::kMalformed:
        fault_name = "malformed";
        run_handler = false;
        out.action = FaultAction::kMalformed;
        out.response.status = fault->status == 0 ? 200 : fault->status;
        out.response.content_type = "application/json";
        out.response.body = "{\"items\": [{\"id\": ";
        break;
      case FaultAction::kTruncate:
        fault_name = "truncate";
        out.action = FaultAction::kTruncate;
        break;
    }
    if (fault->retry_after_s >= 0) {
      out.response.headers.emplace_back("Retry-After", std::to_string(fault->retry_after_s));
    }
  }
  if (run_handler) {
    const std::string key = ApiRouter::ApiKeyOf(req);
    const int64_t wait = key.empty() ? 0
                                     : limiter_.Acquire(key, config_.rate_limit_per_minute.load(),
                                                        RateLimiter::Clock::now());
    if (wait > 0) {
      out.response = ErrorResponse(429, "rate limit exceeded");
      out.response.headers.emplace_back("Retry-After", std::to_string(wait));
    } else {
      auto extra_headers = std::move(out.response.headers);
      out.response = router_.Handle(req);
      for (auto& h : extra_headers) out.response.headers.push_back(std::move(h));
    }
  }
  out.delay_ms += config_.latency_ms.load();

  LoggedRequest entry;
  entry.time = NowTimestamp();
  entry.method = req.method;
  entry.path = req.path;
  entry.query = req.raw_query;
  entry.headers = req.headers;
  entry.body_size = static_cast<int64_t>(req.body.size());
  entry.status = out.action == FaultAction::kDrop ? 0 : out.response.status;
  entry.fault = fault_name;
  log_.Add(std::move(entry));
  return out;
}

}  // namespace labelport::darwin_sim
