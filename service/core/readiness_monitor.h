// ReadinessMonitor: decides whether this replica is ready to serve, from
// checks of what it needs to answer calls (its store), and watches the
// dependencies it only needs for some work (V7) without letting them decide.
// CheckNow() runs every check and, when the verdict changes, tells
// `on_change` (the server maps it to gRPC health SERVING / NOT_SERVING) and
// logs which dependency failed and why. Each check's outcome, readiness or
// not, is reported as Metrics::SetDependencyUp(name, ok).
//
// Why V7 does not decide readiness: every replica sees the same V7, so a V7
// outage (or a revoked key) would take every replica out of its Service at
// once, and with them GetRun, ListRuns and WatchRun, which do not need V7.
// Uploads wait V7 out instead (DarwinBackend), and calls that need V7 fail
// with UNAVAILABLE on their own.
//
// Checks block and must bound their own time (e.g. a short deadline);
// CheckNow is meant for a PeriodicThread, never a gRPC or io thread.
// Liveness is a separate matter: a replica whose store is unreachable is
// alive and should not be restarted, only taken out of load balancing.
//
// Thread-safety: CheckNow may be called from one thread at a time; ready()
// from any thread.
#ifndef LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_
#define LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/common/metrics.h"

namespace labelport::core {

struct DependencyCheck {
  // Short name for logs and metrics ("store", "v7").
  std::string name;
  // OK when the dependency answered as needed.
  std::function<absl::Status()> check;
  // Whether readiness requires it (the store); false: watched and reported
  // only (V7).
  bool required_for_readiness = true;
};

class ReadinessMonitor {
 public:
  // `metrics` may be null; it must outlive the monitor. The first CheckNow
  // always calls `on_change`.
  ReadinessMonitor(std::vector<DependencyCheck> checks, std::function<void(bool ready)> on_change,
                   common::Metrics* metrics = nullptr);

  // Runs every check (all of them, even after a failure, so that each
  // dependency's state is known) and returns whether every check required
  // for readiness passed.
  bool CheckNow();

  // The verdict of the last CheckNow; false before the first.
  bool ready() const { return ready_.load(); }

 private:
  const std::vector<DependencyCheck> checks_;
  const std::function<void(bool)> on_change_;
  common::Metrics* metrics_;
  std::atomic<bool> ready_{false};
  bool checked_once_ = false;
  std::vector<std::string> last_failures_;
  // The last outcome of each check not required for readiness.
  std::map<std::string, bool> watched_up_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_READINESS_MONITOR_H_
