#include "service/core/readiness_monitor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/common/log.h"

namespace labelport::core {

ReadinessMonitor::ReadinessMonitor(std::vector<DependencyCheck> checks,
                                   std::function<void(bool ready)> on_change,
                                   common::Metrics* metrics)
    : checks_(std::move(checks)),
      on_change_(std::move(on_change)),
      metrics_(metrics != nullptr ? metrics : &common::NoMetrics()) {}

bool ReadinessMonitor::CheckNow() {
  std::vector<std::string> failures;
  for (const DependencyCheck& dependency : checks_) {
    const absl::Status status = dependency.check();
    metrics_->SetDependencyUp(dependency.name, status.ok());
    if (dependency.required_for_readiness) {
      if (!status.ok()) failures.push_back(absl::StrCat(dependency.name, ": ", status.ToString()));
      continue;
    }
    // Logged on each change only (it does not change readiness).
    auto [known, inserted] = watched_up_.try_emplace(dependency.name, status.ok());
    if (!status.ok() && (inserted || known->second)) {
      common::LogWarning(absl::StrCat(dependency.name, " is down (this replica stays ready; ",
                                      "uploads wait for it): ", status.ToString()));
    } else if (status.ok() && !inserted && !known->second) {
      common::LogInfo(absl::StrCat(dependency.name, " answers again"));
    }
    known->second = status.ok();
  }
  const bool ready = failures.empty();
  const bool changed = !checked_once_ || ready != ready_.load();
  if (!ready && failures != last_failures_) {
    common::LogWarning(absl::StrCat("not ready: ", absl::StrJoin(failures, "; ")));
  } else if (ready && changed && checked_once_) {
    common::LogInfo("ready again: every dependency readiness needs answers");
  }
  last_failures_ = std::move(failures);
  checked_once_ = true;
  ready_ = ready;
  if (changed && on_change_) on_change_(ready);
  return ready;
}

}  // namespace labelport::core
