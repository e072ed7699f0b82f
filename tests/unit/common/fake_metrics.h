// FakeMetrics: a common::Metrics that records every call, for tests.
#ifndef LABELPORT_TESTS_UNIT_COMMON_FAKE_METRICS_H_
#define LABELPORT_TESTS_UNIT_COMMON_FAKE_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/common/metrics.h"

namespace labelport::testing {

class FakeMetrics : public common::Metrics {
 public:
  void RecordRpc(absl::string_view method, absl::string_view code,
                 absl::Duration latency) override {
    absl::MutexLock lock(&mu_);
    rpcs_.push_back(absl::StrCat(method, " ", code));
    last_rpc_latency_ = latency;
  }
  void RecordV7Call(absl::string_view endpoint, absl::string_view status, absl::Duration) override {
    absl::MutexLock lock(&mu_);
    v7_calls_.push_back(absl::StrCat(endpoint, " -> ", status));
  }
  void RecordHttpRetry(absl::string_view endpoint, absl::string_view reason) override {
    absl::MutexLock lock(&mu_);
    retries_.push_back(absl::StrCat(endpoint, " ", reason));
  }
  void RecordRateLimiterWait(absl::Duration wait) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(wait);
  }
  void SetRateLimitPerMinute(double requests_per_minute) override {
    absl::MutexLock lock(&mu_);
    rate_limit_ = requests_per_minute;
  }
  void AddSamplesUploaded(absl::string_view outcome, int64_t count) override {
    absl::MutexLock lock(&mu_);
    samples_[std::string(outcome)] += count;
  }
  void AddLabelsLoaded(absl::string_view change, int64_t count) override {
    absl::MutexLock lock(&mu_);
    labels_[std::string(change)] += count;
  }
  void SetDependencyUp(absl::string_view dependency, bool up) override {
    absl::MutexLock lock(&mu_);
    dependencies_[std::string(dependency)] = up;
  }

  std::vector<std::string> rpcs() const { return Copy(rpcs_); }
  std::vector<std::string> v7_calls() const { return Copy(v7_calls_); }
  std::vector<std::string> retries() const { return Copy(retries_); }
  std::vector<absl::Duration> waits() const { return Copy(waits_); }
  double rate_limit() const { return Copy(rate_limit_); }
  std::map<std::string, int64_t> samples() const { return Copy(samples_); }
  std::map<std::string, int64_t> labels() const { return Copy(labels_); }
  std::map<std::string, bool> dependencies() const { return Copy(dependencies_); }

 private:
  template <typename T>
  T Copy(const T& value) const {
    absl::MutexLock lock(&mu_);
    return value;
  }

  mutable absl::Mutex mu_;
  std::vector<std::string> rpcs_;
  absl::Duration last_rpc_latency_;
  std::vector<std::string> v7_calls_;
  std::vector<std::string> retries_;
  std::vector<absl::Duration> waits_;
  double rate_limit_ = 0;
  std::map<std::string, int64_t> samples_;
  std::map<std::string, int64_t> labels_;
  std::map<std::string, bool> dependencies_;
};

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_FAKE_METRICS_H_
