// Metrics: the port through which labelport reports what it does, so that
// core, http and api code never depend on a metrics library. The server binds
// it to Prometheus (service/metrics/prometheus_metrics.h); tests bind it to a
// recording fake; code given no Metrics uses NoMetrics().
//
// Each method names one measurement. Label values must be low-cardinality:
// RPC method names, gRPC code names, V7 endpoint *templates* (no ids or
// slugs, see service/http/endpoint_template.h), small fixed vocabularies. Never pass secrets,
// user-provided names or ids.
//
// Thread-safety: every method may be called concurrently from any thread and
// must not block on I/O.
#ifndef LABELPORT_SERVICE_COMMON_METRICS_H_
#define LABELPORT_SERVICE_COMMON_METRICS_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace labelport::common {

class Metrics {
 public:
  virtual ~Metrics() = default;

  // One finished gRPC call: full method ("/labelport.v1.AnnotationService/
  // GetRun"), status code name ("OK", "NOT_FOUND", ...) and its duration
  // from the arrival of the call to its status being sent.
  virtual void RecordRpc(absl::string_view method, absl::string_view code,
                         absl::Duration latency) = 0;

  // One HTTP attempt to V7 (or to a signed storage URL): the endpoint
  // template ("GET /api/v2/teams/{team}/items"), the HTTP status as text
  // ("200", "429") or "error" when no response came, and its duration.
  virtual void RecordV7Call(absl::string_view endpoint, absl::string_view status,
                            absl::Duration latency) = 0;

  // One retry decided by the retry layer for `endpoint`; `reason` is the
  // HTTP status as text or the absl status code name ("UNAVAILABLE").
  virtual void RecordHttpRetry(absl::string_view endpoint, absl::string_view reason) = 0;

  // One rate-limiter token that had to wait `wait` (> 0) before use.
  virtual void RecordRateLimiterWait(absl::Duration wait) = 0;

  // The per-key V7 rate this replica currently uses, after sharing the
  // limit with the other live replicas (requests per minute).
  virtual void SetRateLimitPerMinute(double requests_per_minute) = 0;

  // `count` samples of an upload job reached a final outcome: "completed"
  // (in V7 with their labels) or "failed".
  virtual void AddSamplesUploaded(absl::string_view outcome, int64_t count) = 0;

  // `count` labels of a successful LoadAnnotations by kind of change:
  // "added", "edited", "deleted" or "unchanged".
  virtual void AddLabelsLoaded(absl::string_view change, int64_t count) = 0;

  // Whether a dependency answered its last health check: "store" (which
  // readiness follows) or "v7" (which it does not; uploads wait for it).
  // Other names are reported as "other" (a fixed label set).
  virtual void SetDependencyUp(absl::string_view dependency, bool up) = 0;
};

// A Metrics that records nothing (shared, stateless).
Metrics& NoMetrics();

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_METRICS_H_
