// What labelport-server's Run() builds, and the steps that build, start and
// stop it (labelport_server_main.cc runs them in the order below).
//
// Every step takes the components built by the steps before it and adds its
// own. A step that fails returns a status whose message is the server's log
// line for it (Run logs it and exits 1); what was built until then is torn
// down by ~ServerComponents in reverse order, the I/O threads stopped and
// joined first if they run (~Workers).
//
// Thread-safety: the steps run on the main thread, one after another.
#ifndef LABELPORT_SERVICE_SERVER_SERVER_COMPONENTS_H_
#define LABELPORT_SERVICE_SERVER_SERVER_COMPONENTS_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/api/annotation_service_impl.h"
#include "service/api/authenticator.h"
#include "service/auth/tenant_directory.h"
#include "service/backend/darwin/darwin_backend_provider.h"
#include "service/common/cpu_pool.h"
#include "service/common/periodic_thread.h"
#include "service/config/server_config.h"
#include "service/core/readiness_monitor.h"
#include "service/core/replica_rate_share.h"
#include "service/core/run_operations.h"
#include "service/core/run_quota.h"
#include "service/core/run_registry.h"
#include "service/core/run_watch_hub.h"
#include "service/core/run_worker.h"
#include "service/metrics/prometheus_metrics.h"
#include "service/reflection/descriptor_catalog.h"
#include "service/reflection/server_reflection.h"
#include "service/server/health_port.h"
#include "service/server/http_stacks.h"
#include "service/server/store_wiring.h"
#include "service/server/tenant_accounts.h"
#include "service/server/tenants_reloader.h"
#include "service/server/v7_health_check.h"
#include "service/store/tenant_content_stores.h"

namespace labelport::server {

// The upload worker, its store pool and the I/O threads. Destroyed while
// the I/O threads still run (an error return of a later step), it stops
// the worker and the io_context and joins them first: destroying joinable
// threads would abort the process instead of exiting with the error.
struct Workers {
  Workers(int store_threads, HttpStacks* http) : store_pool(store_threads), http(http) {}
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Lets the io_context run out of work, stops it and joins the I/O threads
  // (none remain).
  void StopIoThreads();

  // The store calls of the upload worker and of loads, status and clean-up
  // (joined by the destructor before the worker is destroyed, and before the
  // io_context).
  boost::asio::thread_pool store_pool;
  std::optional<core::RunWorker> worker;
  std::vector<std::thread> io_threads;
  HttpStacks* http;
};

// Members are declared in build order and destroyed in reverse.
struct ServerComponents {
  config::ServerConfig config;
  // ---- OpenTenants, PrepareDataDir
  std::unique_ptr<auth::TenantDirectory> tenants;  // null with --auth=none
  std::shared_ptr<grpc::ServerCredentials> listener_credentials;
  std::string temp_dir;
  // ---- OpenStores, StartMetrics
  std::unique_ptr<Stores> stores;
  std::unique_ptr<metrics::PrometheusMetrics> metrics;
  // ---- BuildHttpStacks, StartReplicaHeartbeat
  std::unique_ptr<HttpStacks> http;
  std::unique_ptr<core::ReplicaRateShare> rate_share;
  std::unique_ptr<common::PeriodicThread> heartbeat;
  // ---- OpenBackends
  std::unique_ptr<store::TenantContentStores> content_stores;
  std::unique_ptr<const TenantAccounts> accounts;
  std::unique_ptr<common::CpuPool> cpu_pool;
  std::unique_ptr<backend::darwin::DarwinBackendProvider> backends;
  // ---- StartWorkers
  std::unique_ptr<Workers> workers;
  // ---- BuildService
  std::unique_ptr<const core::RunQuota> run_quota;
  std::unique_ptr<core::RunRegistry> registry;
  std::unique_ptr<common::PeriodicThread> spool_sweeper;
  std::unique_ptr<boost::asio::thread_pool> executor;
  std::unique_ptr<core::RunOperations> operations;
  std::unique_ptr<api::Authenticator> authenticator;
  std::unique_ptr<core::RunWatchHub> watch_hub;
  std::unique_ptr<api::AnnotationServiceImpl> service;
  std::unique_ptr<TenantsReloader> reloader;  // null with --auth=none
  // ---- StartListeners
  std::unique_ptr<reflection::DescriptorCatalog> reflection_catalog;
  std::unique_ptr<reflection::ServerReflectionV1> reflection_v1;
  std::unique_ptr<reflection::ServerReflectionV1Alpha> reflection_v1alpha;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::unique_ptr<HealthPort> health_port;  // null without --health_listen
  std::unique_ptr<HealthStatuses> health;
  std::unique_ptr<V7HealthCheck> v7_check;
  std::unique_ptr<core::ReadinessMonitor> readiness;
  std::unique_ptr<common::PeriodicThread> readiness_thread;
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (before any other
// thread starts, so that only WaitForShutdown receives them); returns them.
sigset_t BlockShutdownSignals();

// The tenants file (with --auth=token or mtls) and the listener's
// credentials (TLS files).
absl::Status OpenTenants(ServerComponents& c);

// Creates --data_dir and empties <data_dir>/tmp/<worker id> (temp_dir).
absl::Status PrepareDataDir(ServerComponents& c);

// The stores (store_wiring.h).
absl::Status OpenStores(ServerComponents& c);

// The Prometheus endpoint (--metrics_listen), counting runs by state.
absl::Status StartMetrics(ServerComponents& c);

// The io_context and the HTTP stacks (http_stacks.h).
absl::Status BuildHttpStacks(ServerComponents& c);

// Registers this replica and starts its heartbeat, which shares the V7 rate
// limit equally among the live replicas on one store.
absl::Status StartReplicaHeartbeat(ServerComponents& c);

// Warns about a missing or ignored V7 key; the tenant media stores, V7
// accounts, the CPU pool and one DarwinBackend per tenant. With --auth=none
// and a key, bad V7 settings fail start-up; a tenant's are only logged.
absl::Status OpenBackends(ServerComponents& c);

// The upload worker (started unless there is neither a tenant nor a key:
// runs then stay PENDING) and --io_threads I/O threads.
absl::Status StartWorkers(ServerComponents& c);

// The run registry (its stale CreateRun spools discarded now and every
// minute), run operations, authentication, the watch hub, the gRPC service
// and the tenants reloader; logs the security posture (auth, TLS, tenants,
// media roots).
absl::Status BuildService(ServerComponents& c);

// Reflection, the gRPC server on --listen, the plaintext health port
// (--health_listen) and readiness checks (every
// --readiness_interval_seconds); then prints "listening on HOST:PORT" (the
// first line on stdout) and logs where everything listens.
absl::Status StartListeners(ServerComponents& c);

// Waits for SIGTERM or SIGINT, reloading the tenants on SIGHUP; returns the
// signal. Ends the tenants reloader.
int WaitForShutdown(ServerComponents& c, const sigset_t& signals);

// Health NOT_SERVING, in-flight calls get --drain_seconds, then the
// executor, worker, heartbeat (leaving the replica directory) and I/O
// threads stop.
void Drain(ServerComponents& c, int signal_number);

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_SERVER_COMPONENTS_H_
