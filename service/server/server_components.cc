#include "service/server/server_components.h"

#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "labelport/descriptor_set.h"
#include "service/api/rpc_telemetry_interceptor.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/protected_files.h"
#include "service/common/status_macros.h"
#include "service/server/listener_credentials.h"

namespace labelport::server {
namespace {

using common::LogInfo;
using common::LogWarning;
using common::Prefixed;

constexpr char kServiceName[] = "labelport.v1.AnnotationService";
constexpr char kLivenessName[] = "liveness";
// What reflection lists; the default health service is grpc.health.v1.Health.
constexpr char kHealthServiceName[] = "grpc.health.v1.Health";
// Bounds of one V7 health check (the probe client does not retry).
constexpr absl::Duration kV7CheckTimeout = absl::Seconds(5);

// <data_dir>/tmp/<worker id>, created empty: what an earlier process left
// there (killed in the middle of a fetch) is removed. Per worker, so that
// replicas sharing a data dir never remove each other's files.
absl::StatusOr<std::string> PrepareTempDir(const std::string& data_dir,
                                           const std::string& worker_id) {
  std::string name = worker_id;
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = "worker";
  const std::filesystem::path dir = std::filesystem::path(data_dir) / "tmp" / name;
  std::error_code ec;
  const std::uintmax_t removed = std::filesystem::remove_all(dir, ec);
  if (!ec) std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("cannot prepare the temporary directory '",
                                               dir.string(), "': ", ec.message()));
  if (removed > 1)
    LogInfo(
        absl::StrCat("removed ", removed - 1, " leftover temporary file(s) from ", dir.string()));
  return dir.string();
}

// Whether anything can be uploaded: a tenant or (--auth=none) a V7 key.
bool HasV7Keys(const ServerComponents& c) {
  return c.tenants != nullptr || !c.config.darwin_api_key.empty();
}

void WarnAboutV7Keys(const config::ServerConfig& config) {
  using auth::AuthMode;
  if (config.auth_mode == AuthMode::kNone && config.darwin_api_key.empty()) {
    LogWarning(
        "no V7 API key (set FIFTYONE_DARWIN_API_KEY or --darwin_api_key_file): runs can be "
        "created but not uploaded");
  }
  if (config.auth_mode != AuthMode::kNone && !config.darwin_api_key.empty()) {
    LogWarning(
        "FIFTYONE_DARWIN_API_KEY / --darwin_api_key_file is ignored with --auth=token or mtls: "
        "each tenant's V7 key comes from the tenants file");
  }
}

void LogSecurityPosture(const ServerComponents& c) {
  using auth::AuthMode;
  const config::ServerConfig& config = c.config;
  LogInfo(absl::StrCat("auth=", auth::AuthModeName(config.auth_mode),
                       " tls=", config.tls_cert.empty() ? "off" : "on",
                       config.tls_client_ca.empty() ? "" : " (client certificates required)"));
  if (c.tenants != nullptr)
    LogInfo(absl::StrCat("tenants: ", absl::StrJoin(c.tenants->TenantNames(), ", ")));
  if (config.auth_mode == AuthMode::kNone && config.media_roots.empty()) {
    LogWarning(
        "media paths: the whole file system is a media root (--auth=none without "
        "--media_root), except the server's own files (data dir, store, key, tenants and TLS "
        "files)");
  } else {
    LogInfo(absl::StrCat("media roots of every tenant: ",
                         config.media_roots.empty() ? "none (--media_root not given)"
                                                    : absl::StrJoin(config.media_roots, ", "),
                         c.tenants != nullptr ? "; plus each tenant's own media_roots" : ""));
  }
  if (config.auth_mode == AuthMode::kNone) {
    LogWarning(config::IsLoopbackListenAddress(config.listen)
                   ? "no authentication (--auth=none): every caller is tenant 'default'; "
                     "development mode"
                   : "no authentication (--auth=none) on a non-loopback address "
                     "(--allow_insecure_remote): anyone who reaches this port acts as tenant "
                     "'default'");
  } else if (config.tls_cert.empty()) {
    LogWarning(
        "--auth=token without TLS: bearer tokens travel in clear text; give --tls_cert "
        "and --tls_key unless TLS ends in front of this server");
  }
}

// Readiness follows the store; V7 is watched for the metric and the log
// only.
void StartReadiness(ServerComponents& c) {
  std::vector<core::DependencyCheck> checks;
  checks.push_back({"store", [store = &c.stores->database->run_store()] {
                      auto listed = store->ListClaimableRuns(1, "");
                      return listed.status();
                    }});
  // V7 is watched with its own clients (no retries, a short deadline), for
  // the metric and the log only: readiness does not follow it.
  c.v7_check = std::make_unique<V7HealthCheck>(c.accounts.get(), &*c.http->limited_http,
                                               &c.http->io, kV7CheckTimeout);
  if (HasV7Keys(c))
    checks.push_back({"v7", [v7_check = c.v7_check.get()] { return v7_check->Check(); },
                      /*required_for_readiness=*/false});
  c.readiness = std::make_unique<core::ReadinessMonitor>(
      std::move(checks),
      [health = c.health.get()](bool ready) {
        health->Set("", ready);
        health->Set(kServiceName, ready);
      },
      c.metrics.get());
  c.readiness->CheckNow();
  c.readiness_thread = std::make_unique<common::PeriodicThread>(
      absl::Seconds(c.config.readiness_interval_seconds),
      [readiness = c.readiness.get()] { readiness->CheckNow(); });
  c.readiness_thread->Start();
}

// The first line on stdout, then where everything listens.
void AnnounceListening(const ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  // Whoever waits for the line below finds every start-up line in the log.
  common::FlushLogs();
  std::printf("listening on %s:%d\n", host.c_str(), c.port);
  std::fflush(stdout);
  LogInfo(absl::StrCat("labelport-server listening on ", host, ":", c.port,
                       " store=", store::DescribeDatabase(c.stores->store_location),
                       " darwin=", config.darwin_url, " worker=", config.worker_id));
  if (c.health_port != nullptr) {
    LogInfo(absl::StrCat("health (grpc.health.v1 only, plaintext) on ",
                         config.health_listen.substr(0, config.health_listen.rfind(':')), ":",
                         c.health_port->port()));
  }
  if (c.metrics->port() != 0) {
    LogInfo(absl::StrCat("metrics on http://",
                         config.metrics_listen.substr(0, config.metrics_listen.rfind(':')), ":",
                         c.metrics->port(), "/metrics"));
  }
}

}  // namespace

void Workers::StopIoThreads() {
  http->work.reset();
  http->io.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
}

Workers::~Workers() {
  if (!io_threads.empty()) {
    worker->Stop();
    StopIoThreads();
  }
  // A store call of the worker's claim loop may still run on the pool (it
  // reads the worker): it ends before the worker is destroyed.
  store_pool.join();
}

sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

absl::Status OpenTenants(ServerComponents& c) {
  if (c.config.auth_mode != auth::AuthMode::kNone) {
    auto loaded =
        auth::TenantDirectory::Load(c.config.tenants_file, {.data_dir = c.config.data_dir});
    if (!loaded.ok()) return Prefixed("--tenants_file: ", loaded.status());
    c.tenants = *std::move(loaded);
  }
  LP_ASSIGN_OR_RETURN(c.listener_credentials, ListenerCredentials(c.config));
  return absl::OkStatus();
}

absl::Status PrepareDataDir(ServerComponents& c) {
  std::error_code ec;
  std::filesystem::create_directories(c.config.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create --data_dir '", c.config.data_dir, "': ", ec.message()));
  }
  LP_ASSIGN_OR_RETURN(c.temp_dir, PrepareTempDir(c.config.data_dir, c.config.worker_id));
  return absl::OkStatus();
}

absl::Status OpenStores(ServerComponents& c) {
  LP_ASSIGN_OR_RETURN(c.stores, OpenStores(c.config));
  return absl::OkStatus();
}

absl::Status StartMetrics(ServerComponents& c) {
  auto metrics = metrics::PrometheusMetrics::Create({.listen = c.config.metrics_listen});
  if (!metrics.ok()) return Prefixed("--metrics_listen: ", metrics.status());
  c.metrics = *std::move(metrics);
  // The source owns the counter: a scrape may come until the metrics
  // endpoint itself is gone.
  c.metrics->SetRunCountSource([counter = c.stores->run_state_counter]()
                                   -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
    auto counts = counter->CountRunsByState();
    if (!counts.ok()) return counts.status();
    std::vector<std::pair<std::string, int64_t>> named;
    for (const auto& [state, count] : *counts) {
      named.emplace_back(absl::StripPrefix(labelport::v1::RunState_Name(state), "RUN_STATE_"),
                         count);
    }
    return named;
  });
  return absl::OkStatus();
}

absl::Status BuildHttpStacks(ServerComponents& c) {
  LP_ASSIGN_OR_RETURN(c.http, BuildHttpStacks(c.config, c.metrics.get()));
  return absl::OkStatus();
}

absl::Status StartReplicaHeartbeat(ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  // N replicas on one store share --darwin_rate_limit_per_minute and
  // --darwin_rate_burst equally.
  c.rate_share = std::make_unique<core::ReplicaRateShare>(
      c.stores->replicas,
      [limiter = c.http->limiter.get()](double per_minute, int burst) {
        (void)limiter->SetRate(per_minute, burst);
      },
      core::ReplicaRateShare::Options{
          .replica_id = config.worker_id,
          .total_requests_per_minute = static_cast<double>(config.darwin_rate_limit_per_minute),
          .total_burst = config.darwin_rate_burst,
          .ttl = absl::Seconds(3 * config.readiness_interval_seconds)},
      c.metrics.get());
  c.heartbeat = std::make_unique<common::PeriodicThread>(
      absl::Seconds(config.readiness_interval_seconds), [rate_share = c.rate_share.get()] {
        auto live = rate_share->Refresh();
        if (!live.ok()) {
          LogWarning(absl::StrCat("replica heartbeat failed (keeping the current V7 rate): ",
                                  live.status().message()));
        }
      });
  c.heartbeat->Start();
  return absl::OkStatus();
}

absl::Status OpenBackends(ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  WarnAboutV7Keys(config);
  const std::string media_dir = absl::StrCat(config.data_dir, "/media");
  c.content_stores =
      std::make_unique<store::TenantContentStores>(media_dir, config.max_media_bytes_per_tenant);
  if (auto opened = c.content_stores->ForTenant(std::string(auth::kDefaultTenant)); !opened.ok())
    return Prefixed("cannot open the media store: ", opened.status());
  // The V7 account of a tenant; errors reach the caller (never a key).
  c.accounts = std::make_unique<const TenantAccounts>(config, c.tenants.get(), media_dir);
  auto account_of = [accounts = c.accounts.get()](const std::string& tenant) {
    return accounts->Lookup(tenant);
  };
  // CPU-heavy work of every load (zip reading, parsing, merges) runs on this
  // one bounded pool, never on the I/O threads (--cpu_threads).
  c.cpu_pool = std::make_unique<common::CpuPool>(config.cpu_threads);
  backend::darwin::DarwinBackend::Options backend_options;
  backend_options.cpu_pool = c.cpu_pool.get();
  backend_options.upload_concurrency = config.upload_concurrency;
  backend_options.import_concurrency = config.import_concurrency;
  backend_options.processing_timeout = absl::Seconds(config.processing_timeout_seconds);
  backend_options.export_timeout = absl::Seconds(config.export_timeout_seconds);
  backend_options.export_cleanup_timeout = absl::Seconds(config.export_cleanup_timeout_seconds);
  backend_options.outage_max_wait = absl::Seconds(config.darwin_outage_wait_seconds);
  // Media paths never read the server's own files, whatever root holds them.
  auto* tenant_directory = c.tenants.get();
  backend_options.media_paths.protected_files = std::make_shared<const common::ProtectedFiles>(
      std::vector<std::string>{config.data_dir}, config::ServerOwnFiles(config),
      tenant_directory == nullptr ? common::ProtectedFiles::Lister()
                                  : [tenant_directory] { return tenant_directory->ApiKeyFiles(); });
  backend_options.temp_dir = c.temp_dir;
  backend_options.media_fetch_timeout = absl::Seconds(config.media_fetch_timeout_seconds);
  backend_options.media_fetch.max_bytes = config.max_media_bytes;
  backend_options.media_fetch.stall_timeout = absl::Seconds(config.media_fetch_stall_seconds);
  c.backends = std::make_unique<backend::darwin::DarwinBackendProvider>(
      &*c.http->limited_http, &*c.http->media_http, account_of, backend_options,
      c.http->v7_client_options);
  if (c.tenants == nullptr && !config.darwin_api_key.empty()) {
    if (auto checked = c.backends->BackendFor(std::string(auth::kDefaultTenant)); !checked.ok())
      return Prefixed("bad V7 settings: ", checked.status());
  }
  if (c.tenants != nullptr) {
    for (const std::string& tenant : c.tenants->TenantNames()) {
      if (auto checked = c.backends->BackendFor(tenant); !checked.ok())
        LogWarning(std::string(checked.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status StartWorkers(ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  c.workers = std::make_unique<Workers>(config.store_threads, c.http.get());
  Workers& w = *c.workers;
  w.worker.emplace(&*c.stores->run_store, c.backends.get(), c.http->io.get_executor(),
                   core::RunWorker::Options{
                       .owner_id = config.worker_id,
                       .lease_ttl = absl::Seconds(config.lease_ttl_seconds),
                       .max_concurrent_runs = config.max_concurrent_runs,
                       .max_concurrent_runs_per_tenant = config.max_concurrent_runs_per_tenant,
                       .metrics = c.metrics.get(),
                       .store_pool = &w.store_pool});
  w.io_threads.reserve(static_cast<size_t>(config.io_threads));
  for (int i = 0; i < config.io_threads; ++i)
    w.io_threads.emplace_back([io = &c.http->io] { io->run(); });
  // Without authentication and without a key nothing can be uploaded: runs
  // stay PENDING until a key is configured (and the server restarted).
  if (HasV7Keys(c)) w.worker->Start();
  return absl::OkStatus();
}

absl::Status BuildService(ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  store::RunStore* run_store = &*c.stores->run_store;
  c.run_quota = std::make_unique<const core::RunQuota>(c.stores->run_state_counter.get(),
                                                       config.max_runs_in_flight_per_tenant);
  c.registry = std::make_unique<core::RunRegistry>(
      run_store, c.backends.get(), nullptr, [worker = &*c.workers->worker] { worker->Wake(); },
      core::RunSpoolOptions{.owner = config.worker_id},
      [accounts = c.accounts.get()](const std::string& tenant) {
        return accounts->MediaRootsOf(tenant);
      },
      c.run_quota.get());
  // CreateRun calls of this worker's previous process are gone: their spools
  // go now; spools that expired (stalled calls, replicas that are gone) go
  // every minute.
  c.registry->DiscardStaleSpools(/*at_start=*/true);
  c.spool_sweeper = std::make_unique<common::PeriodicThread>(
      absl::Minutes(1),
      [registry = c.registry.get()] { registry->DiscardStaleSpools(/*at_start=*/false); });
  c.spool_sweeper->Start();
  c.executor = std::make_unique<boost::asio::thread_pool>(config.worker_threads);
  c.operations = std::make_unique<core::RunOperations>(run_store, c.backends.get(), c.metrics.get(),
                                                       c.cpu_pool.get(), &c.workers->store_pool);
  c.authenticator = std::make_unique<api::Authenticator>(config.auth_mode, c.tenants.get());
  c.watch_hub = std::make_unique<core::RunWatchHub>(run_store, &c.stores->run_changes,
                                                    c.executor->get_executor());
  c.service = std::make_unique<api::AnnotationServiceImpl>(
      c.registry.get(), c.content_stores.get(), c.executor.get(), c.http->io.get_executor(),
      c.operations.get(), c.authenticator.get(), c.watch_hub.get(),
      api::CreateRunLimits{.max_samples = config.max_run_samples,
                           .max_bytes = int64_t{config.max_create_run_mb} << 20});
  if (c.tenants != nullptr)
    c.reloader = std::make_unique<TenantsReloader>(c.tenants.get(),
                                                   absl::Seconds(config.tenants_reload_seconds));
  LogSecurityPosture(c);
  return absl::OkStatus();
}

absl::Status StartListeners(ServerComponents& c) {
  const config::ServerConfig& config = c.config;
  grpc::EnableDefaultHealthCheckService(true);
  LP_ASSIGN_OR_RETURN(
      c.reflection_catalog,
      reflection::DescriptorCatalog::Create(
          labelport::proto::DescriptorSetBytes(),
          {kServiceName, kHealthServiceName,
           std::string(grpc::reflection::v1::ServerReflection::service_full_name()),
           std::string(grpc::reflection::v1alpha::ServerReflection::service_full_name())}));
  c.reflection_v1 = std::make_unique<reflection::ServerReflectionV1>(c.reflection_catalog.get());
  c.reflection_v1alpha =
      std::make_unique<reflection::ServerReflectionV1Alpha>(c.reflection_catalog.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, c.listener_credentials, &c.port);
  builder.SetMaxReceiveMessageSize(config.max_message_mb * 1024 * 1024);
  if (config.max_connection_age_seconds > 0) {
    // Clients reconnect now and then, and so spread over new replicas.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               config.max_connection_age_seconds * 1000);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               config.max_connection_age_grace_seconds * 1000);
  }
  builder.SetMaxSendMessageSize(config.max_message_mb * 1024 * 1024);
  builder.RegisterService(c.service.get());
  builder.RegisterService(c.reflection_v1.get());
  builder.RegisterService(c.reflection_v1alpha.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<api::RpcTelemetryInterceptorFactory>(c.metrics.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  c.server = builder.BuildAndStart();
  if (!c.server || c.port == 0)
    return absl::UnavailableError(absl::StrCat("cannot listen on '", config.listen, "'"));
  if (!config.health_listen.empty()) {
    LP_ASSIGN_OR_RETURN(c.health_port, HealthPort::Start(config.health_listen));
  }
  std::vector<grpc::HealthCheckServiceInterface*> health_services = {
      c.server->GetHealthCheckService()};
  if (c.health_port != nullptr) health_services.push_back(c.health_port->health());
  c.health = std::make_unique<HealthStatuses>(std::move(health_services));
  c.health->Set(kLivenessName, true);
  StartReadiness(c);
  AnnounceListening(c);
  return absl::OkStatus();
}

int WaitForShutdown(ServerComponents& c, const sigset_t& signals) {
  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (c.reloader != nullptr) c.reloader->ReloadNow("SIGHUP");
  }
  c.reloader.reset();
  return signal_number;
}

void Drain(ServerComponents& c, int signal_number) {
  LogInfo(absl::StrCat("received ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                       "; draining for up to ", c.config.drain_seconds, "s"));
  c.readiness_thread->Stop();
  c.health->SetAll(false);
  c.server->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::seconds(c.config.drain_seconds));
  // Probes see NOT_SERVING on this port until the main port has drained.
  if (c.health_port != nullptr) c.health_port->Shutdown(std::chrono::system_clock::now());
  c.executor->join();
  c.workers->worker->Stop();
  c.heartbeat->Stop();
  (void)c.rate_share->Leave();
  c.workers->StopIoThreads();
  LogInfo("labelport-server stopped");
}

}  // namespace labelport::server
