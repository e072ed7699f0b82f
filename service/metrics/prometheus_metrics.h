// PrometheusMetrics: common::Metrics on prometheus-cpp, optionally served as
// the Prometheus text format on http://<listen>/metrics (its own port, its
// own two civetweb threads; nothing else is served there).
//
// Exposed (all names prefixed labelport_):
//   rpc_handled_total{method,code}              counter
//   rpc_duration_seconds{method,code}           histogram
//   v7_requests_total{endpoint,status}          counter (each HTTP attempt)
//   v7_request_duration_seconds{endpoint}       histogram
//   v7_retries_total{endpoint,reason}           counter
//   rate_limiter_wait_seconds                   histogram (waits only)
//   rate_limit_per_minute                       gauge (this replica's share)
//   samples_uploaded_total{outcome}             counter
//   labels_loaded_total{change}                 counter
//   dependency_up{dependency}                   gauge (1 up, 0 down; store, v7)
//   runs{state}                                 gauge, read at scrape time
//                                               from the RunCountSource
//   runs_count_errors_total                     counter (source failures)
//
// Thread-safety: all methods may be called concurrently.
#ifndef LABELPORT_SERVICE_METRICS_PROMETHEUS_METRICS_H_
#define LABELPORT_SERVICE_METRICS_PROMETHEUS_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "service/common/metrics.h"

namespace prometheus {
class Exposer;
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace labelport::metrics {

class PrometheusMetrics final : public common::Metrics {
 public:
  struct Options {
    // "HOST:PORT" to serve /metrics on (port 0 picks a free one); empty for
    // no HTTP endpoint (the registry is still kept, see TextExposition).
    std::string listen;
  };

  // Counts of runs per state name ("PENDING", ...), e.g. from the store.
  using RunCountSource =
      std::function<absl::StatusOr<std::vector<std::pair<std::string, int64_t>>>()>;

  // INVALID_ARGUMENT for a `listen` without a port; UNAVAILABLE when the
  // address cannot be bound (the message names it).
  static absl::StatusOr<std::unique_ptr<PrometheusMetrics>> Create(const Options& options);
  ~PrometheusMetrics() override;

  // The bound port of the /metrics endpoint; 0 without one.
  int port() const;

  // Installs the source of the `runs{state}` gauge, called once per scrape
  // (on a scrape thread; it must be quick and thread-safe). Replaces any
  // earlier source. A failing source leaves the gauge out of that scrape
  // and increments runs_count_errors_total.
  void SetRunCountSource(RunCountSource source);

  // Everything in the Prometheus text format (what /metrics serves).
  std::string TextExposition() const;

  void RecordRpc(absl::string_view method, absl::string_view code, absl::Duration latency) override;
  void RecordV7Call(absl::string_view endpoint, absl::string_view status,
                    absl::Duration latency) override;
  void RecordHttpRetry(absl::string_view endpoint, absl::string_view reason) override;
  void RecordRateLimiterWait(absl::Duration wait) override;
  void SetRateLimitPerMinute(double requests_per_minute) override;
  void AddSamplesUploaded(absl::string_view outcome, int64_t count) override;
  void AddLabelsLoaded(absl::string_view change, int64_t count) override;
  void SetDependencyUp(absl::string_view dependency, bool up) override;

 private:
  class RunGauge;
  PrometheusMetrics();

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<RunGauge> run_gauge_;
  std::unique_ptr<prometheus::Exposer> exposer_;

  prometheus::Family<prometheus::Counter>* rpc_handled_;
  prometheus::Family<prometheus::Histogram>* rpc_duration_;
  prometheus::Family<prometheus::Counter>* v7_requests_;
  prometheus::Family<prometheus::Histogram>* v7_duration_;
  prometheus::Family<prometheus::Counter>* v7_retries_;
  prometheus::Histogram* limiter_wait_;
  prometheus::Gauge* rate_limit_;
  prometheus::Family<prometheus::Counter>* samples_uploaded_;
  prometheus::Family<prometheus::Counter>* labels_loaded_;
  prometheus::Family<prometheus::Gauge>* dependency_up_;
  prometheus::Counter* run_count_errors_;
};

}  // namespace labelport::metrics

#endif  // LABELPORT_SERVICE_METRICS_PROMETHEUS_METRICS_H_
