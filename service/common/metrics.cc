#include "service/common/metrics.h"

namespace labelport::common {
namespace {

class NullMetrics final : public Metrics {
 public:
  void RecordRpc(absl::string_view, absl::string_view, absl::Duration) override {}
  void RecordV7Call(absl::string_view, absl::string_view, absl::Duration) override {}
  void RecordHttpRetry(absl::string_view, absl::string_view) override {}
  void RecordRateLimiterWait(absl::Duration) override {}
  void SetRateLimitPerMinute(double) override {}
  void AddSamplesUploaded(absl::string_view, int64_t) override {}
  void AddLabelsLoaded(absl::string_view, int64_t) override {}
  void SetDependencyUp(absl::string_view, bool) override {}
};

}  // namespace

Metrics& NoMetrics() {
  static auto* const metrics = new NullMetrics();
  return *metrics;
}

}  // namespace labelport::common
