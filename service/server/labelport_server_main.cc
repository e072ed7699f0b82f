// labelport-server: wires config, store, core and the gRPC API together, and
// owns the process life cycle (start-up, health, graceful shutdown).
//
// The first line on stdout is "listening on HOST:PORT" once the server
// accepts calls (tests rely on it when --listen uses port 0).
// SIGTERM / SIGINT: health turns NOT_SERVING, in-flight calls get
// --drain_seconds to finish, then the process exits 0.
//
// SIGHUP: re-reads the tenants file (with --auth=token or mtls).
//
// Health: "" and "labelport.v1.AnnotationService" are readiness: SERVING
// while the store answers (checked every --readiness_interval_seconds).
// V7 is checked as often (does it accept the key, with tenants the key of
// at least one tenant?) but only for the dependency_up{dependency="v7"}
// metric: a V7 outage is the same for every replica, and GetRun, ListRuns
// and WatchRun do not need V7; uploads wait it out (DarwinBackend).
// "liveness" is SERVING from start-up to SIGTERM, whatever V7 or the store
// do.
//
// Tenants: with --auth=none every call is tenant "default", whose V7 key is
// FIFTYONE_DARWIN_API_KEY / --darwin_api_key_file; otherwise each tenant's
// key comes from the tenants file. Each tenant gets its own DarwinClient and
// DarwinBackend (DarwinBackendProvider) over one shared HTTP stack for V7.
//
// Media paths: a tenant reads server files only beneath its media roots
// (--media_root plus its tenants-file media_roots; "/" with --auth=none and
// no --media_root), never the server's own files (common::ProtectedFiles).
//
// Media URLs go through a second HTTP stack: the egress policy
// (--media_url_allow) checks every address it connects to, its attempts
// are metered under the one endpoint label "media_fetch", and it does not
// take V7 rate-limiter tokens. Fetched media and export downloads are
// spooled under <data_dir>/tmp/<worker id>, emptied at start-up.
//
// Reflection: grpc.reflection.v1 and v1alpha describe the served services
// (labelport.v1.AnnotationService, grpc.health.v1.Health and reflection
// itself) from the descriptor set embedded at build time, comments included.
#include <cstdio>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "service/common/log.h"
#include "service/config/server_config.h"
#include "service/server/server_components.h"

namespace {

using labelport::server::ServerComponents;

// A start-up step failed: its status carries the log line; exit code 1.
int Failed(const absl::Status& status) {
  labelport::common::LogError(std::string(status.message()));
  return 1;
}

// Exit codes: 2 for a bad command line or environment (the message on
// stderr), 1 when start-up fails (the message logged), 0 after a drain.
int Run(int argc, char** argv) {
  namespace server = labelport::server;
  const sigset_t signals = server::BlockShutdownSignals();
  // Abseil's mutex deadlock detection is on in the distribution's build of
  // the library: it records the lock graph, with stack traces, on every
  // nested lock in the server and in gRPC (a tenth of the CPU of a
  // WatchRun fan-out). Lock order is checked by the unit tests, which keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto config = labelport::config::LoadServerConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "labelport-server: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  labelport::common::SetLogLevel(config->log_level);
  labelport::common::SetJsonLogs(config->log_json);
  ServerComponents c;
  c.config = *std::move(config);
  // Each step builds on the ones before it (server_components.h).
  using Step = absl::Status (*)(ServerComponents&);
  const Step start_up[] = {server::OpenTenants,     server::PrepareDataDir,
                           server::OpenStores,      server::StartMetrics,
                           server::BuildHttpStacks, server::StartReplicaHeartbeat,
                           server::OpenBackends,    server::StartWorkers,
                           server::BuildService,    server::StartListeners};
  for (const Step step : start_up) {
    if (absl::Status s = step(c); !s.ok()) return Failed(s);
  }
  server::Drain(c, server::WaitForShutdown(c, signals));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
