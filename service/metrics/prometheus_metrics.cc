#include "service/metrics/prometheus_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::metrics {
namespace {

// Seconds: gRPC calls range from a store read (~1 ms) to a long load stream.
const prometheus::Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& HttpBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& WaitBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *buckets;
}

prometheus::Labels LabelsOf(
    std::initializer_list<std::pair<const char*, absl::string_view>> labels) {
  prometheus::Labels out;
  for (const auto& [name, value] : labels) out.emplace(name, std::string(value));
  return out;
}

}  // namespace

// The runs{state} gauge, computed from the RunCountSource on each scrape.
class PrometheusMetrics::RunGauge : public prometheus::Collectable {
 public:
  explicit RunGauge(prometheus::Counter* errors) : errors_(errors) {}

  void SetSource(RunCountSource source) {
    std::lock_guard<std::mutex> lock(mu_);
    source_ = std::move(source);
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    RunCountSource source;
    {
      std::lock_guard<std::mutex> lock(mu_);
      source = source_;
    }
    if (!source) return {};
    auto counts = source();
    if (!counts.ok()) {
      errors_->Increment();
      return {};
    }
    prometheus::MetricFamily family;
    family.name = "labelport_runs";
    family.help = "Annotation runs in the store by state (all tenants)";
    family.type = prometheus::MetricType::Gauge;
    for (const auto& [state, count] : *counts) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"state", state});
      metric.gauge.value = static_cast<double>(count);
      family.metric.push_back(std::move(metric));
    }
    return {std::move(family)};
  }

 private:
  prometheus::Counter* errors_;
  mutable std::mutex mu_;
  RunCountSource source_;
};

PrometheusMetrics::PrometheusMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  rpc_handled_ = &prometheus::BuildCounter()
                      .Name("labelport_rpc_handled_total")
                      .Help("gRPC calls finished, by full method and status code")
                      .Register(r);
  rpc_duration_ = &prometheus::BuildHistogram()
                       .Name("labelport_rpc_duration_seconds")
                       .Help("gRPC call duration from arrival to status, by method and code")
                       .Register(r);
  v7_requests_ = &prometheus::BuildCounter()
                      .Name("labelport_v7_requests_total")
                      .Help(
                          "HTTP attempts to V7 by endpoint template and HTTP status "
                          "(\"error\": no response)")
                      .Register(r);
  v7_duration_ = &prometheus::BuildHistogram()
                      .Name("labelport_v7_request_duration_seconds")
                      .Help("Duration of HTTP attempts to V7 by endpoint template")
                      .Register(r);
  v7_retries_ = &prometheus::BuildCounter()
                     .Name("labelport_v7_retries_total")
                     .Help("HTTP retries by endpoint template and reason")
                     .Register(r);
  limiter_wait_ = &prometheus::BuildHistogram()
                       .Name("labelport_rate_limiter_wait_seconds")
                       .Help("Waits for a V7 rate-limiter token (only calls that waited)")
                       .Register(r)
                       .Add({}, WaitBuckets());
  rate_limit_ = &prometheus::BuildGauge()
                     .Name("labelport_rate_limit_per_minute")
                     .Help(
                         "V7 calls per minute per API key this replica uses (its share of "
                         "--darwin_rate_limit_per_minute)")
                     .Register(r)
                     .Add({});
  samples_uploaded_ = &prometheus::BuildCounter()
                           .Name("labelport_samples_uploaded_total")
                           .Help("Samples of upload jobs by final outcome (completed, failed)")
                           .Register(r);
  labels_loaded_ = &prometheus::BuildCounter()
                        .Name("labelport_labels_loaded_total")
                        .Help(
                            "Labels of successful loads by change (added, edited, deleted, "
                            "unchanged)")
                        .Register(r);
  dependency_up_ = &prometheus::BuildGauge()
                        .Name("labelport_dependency_up")
                        .Help("1 when the dependency (store, v7) answered its last health check")
                        .Register(r);
  run_count_errors_ = &prometheus::BuildCounter()
                           .Name("labelport_runs_count_errors_total")
                           .Help("Scrapes in which the runs-by-state count failed")
                           .Register(r)
                           .Add({});
  run_gauge_ = std::make_shared<RunGauge>(run_count_errors_);
}

PrometheusMetrics::~PrometheusMetrics() = default;

absl::StatusOr<std::unique_ptr<PrometheusMetrics>> PrometheusMetrics::Create(
    const Options& options) {
  std::unique_ptr<PrometheusMetrics> metrics(new PrometheusMetrics());
  if (options.listen.empty()) return metrics;
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == options.listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address '", options.listen, "' must be HOST:PORT"));
  }
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(options.listen, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on '", options.listen, "': ", e.what()));
  }
  // The run gauge first: its failures count in the same scrape.
  metrics->exposer_->RegisterCollectable(metrics->run_gauge_);
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  return metrics;
}

int PrometheusMetrics::port() const {
  if (!exposer_) return 0;
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void PrometheusMetrics::SetRunCountSource(RunCountSource source) {
  run_gauge_->SetSource(std::move(source));
}

std::string PrometheusMetrics::TextExposition() const {
  std::vector<prometheus::MetricFamily> families = run_gauge_->Collect();
  for (auto& family : registry_->Collect()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

void PrometheusMetrics::RecordRpc(absl::string_view method, absl::string_view code,
                                  absl::Duration latency) {
  const prometheus::Labels labels = LabelsOf({{"method", method}, {"code", code}});
  rpc_handled_->Add(labels).Increment();
  rpc_duration_->Add(labels, RpcBuckets()).Observe(absl::ToDoubleSeconds(latency));
}

void PrometheusMetrics::RecordV7Call(absl::string_view endpoint, absl::string_view status,
                                     absl::Duration latency) {
  v7_requests_->Add(LabelsOf({{"endpoint", endpoint}, {"status", status}})).Increment();
  v7_duration_->Add(LabelsOf({{"endpoint", endpoint}}), HttpBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

void PrometheusMetrics::RecordHttpRetry(absl::string_view endpoint, absl::string_view reason) {
  v7_retries_->Add(LabelsOf({{"endpoint", endpoint}, {"reason", reason}})).Increment();
}

void PrometheusMetrics::RecordRateLimiterWait(absl::Duration wait) {
  limiter_wait_->Observe(absl::ToDoubleSeconds(wait));
}

void PrometheusMetrics::SetRateLimitPerMinute(double requests_per_minute) {
  rate_limit_->Set(requests_per_minute);
}

void PrometheusMetrics::AddSamplesUploaded(absl::string_view outcome, int64_t count) {
  if (count <= 0) return;
  samples_uploaded_->Add(LabelsOf({{"outcome", outcome}})).Increment(static_cast<double>(count));
}

void PrometheusMetrics::AddLabelsLoaded(absl::string_view change, int64_t count) {
  if (count <= 0) return;
  labels_loaded_->Add(LabelsOf({{"change", change}})).Increment(static_cast<double>(count));
}

void PrometheusMetrics::SetDependencyUp(absl::string_view dependency, bool up) {
  const absl::string_view label =
      dependency == "store" || dependency == "v7" ? dependency : absl::string_view("other");
  dependency_up_->Add(LabelsOf({{"dependency", label}})).Set(up ? 1 : 0);
}

}  // namespace labelport::metrics
