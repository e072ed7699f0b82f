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
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "labelport/descriptor_set.h"
#include "service/api/annotation_service_impl.h"
#include "service/api/authenticator.h"
#include "service/api/rpc_telemetry_interceptor.h"
#include "service/auth/tenant_directory.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_backend_provider.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/common/cpu_pool.h"
#include "service/common/log.h"
#include "service/common/periodic_thread.h"
#include "service/common/protected_files.h"
#include "service/config/server_config.h"
#include "service/core/readiness_monitor.h"
#include "service/core/replica_rate_share.h"
#include "service/core/run_operations.h"
#include "service/core/run_quota.h"
#include "service/core/run_registry.h"
#include "service/core/run_worker.h"
#include "service/http/beast_http_client.h"
#include "service/http/egress_policy.h"
#include "service/http/metered_http_client.h"
#include "service/http/rate_limited_http_client.h"
#include "service/http/retry_metrics.h"
#include "service/http/retrying_http_client.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "service/metrics/prometheus_metrics.h"
#include "service/reflection/descriptor_catalog.h"
#include "service/reflection/server_reflection.h"
#include "service/server/health_port.h"
#include "service/server/listener_credentials.h"
#include "service/server/tenant_accounts.h"
#include "service/server/tenants_reloader.h"
#include "service/server/v7_health_check.h"
#include "service/store/content_store.h"
#include "service/store/database.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/notifying_run_store.h"
#include "service/store/tenant_content_stores.h"

namespace {

using labelport::common::LogError;
using labelport::common::LogInfo;
using labelport::common::LogWarning;

constexpr char kServiceName[] = "labelport.v1.AnnotationService";
constexpr char kLivenessName[] = "liveness";
// What reflection lists; the default health service is grpc.health.v1.Health.
constexpr char kHealthServiceName[] = "grpc.health.v1.Health";
// Bounds of one V7 health check (the probe client does not retry).
constexpr absl::Duration kV7CheckTimeout = absl::Seconds(5);
// The endpoint label of every media URL attempt (URLs are the caller's).
constexpr char kMediaFetchEndpoint[] = "media_fetch";

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

int Run(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so that only the
  // sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

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
  using labelport::auth::AuthMode;
  std::unique_ptr<labelport::auth::TenantDirectory> tenants;
  if (config->auth_mode != AuthMode::kNone) {
    auto loaded = labelport::auth::TenantDirectory::Load(config->tenants_file,
                                                         {.data_dir = config->data_dir});
    if (!loaded.ok()) {
      LogError(absl::StrCat("--tenants_file: ", loaded.status().message()));
      return 1;
    }
    tenants = *std::move(loaded);
  }
  auto listener_credentials = labelport::server::ListenerCredentials(*config);
  if (!listener_credentials.ok()) {
    LogError(std::string(listener_credentials.status().message()));
    return 1;
  }

  std::error_code ec;
  std::filesystem::create_directories(config->data_dir, ec);
  if (ec) {
    LogError(absl::StrCat("cannot create --data_dir '", config->data_dir, "': ", ec.message()));
    return 1;
  }
  auto temp_dir = PrepareTempDir(config->data_dir, config->worker_id);
  if (!temp_dir.ok()) {
    LogError(std::string(temp_dir.status().message()));
    return 1;
  }
  const labelport::store::DatabaseLocation store_location{.sqlite_path = config->sqlite_path,
                                                          .postgres_url = config->postgres_url};
  // One database: its run store, run-state counter and replica directory
  // share its connections. Shared: the metrics' run-count source holds it.
  auto opened_database = labelport::store::OpenDatabase(store_location);
  if (!opened_database.ok()) {
    LogError(absl::StrCat("cannot open the run store: ", opened_database.status().message()));
    return 1;
  }
  const std::shared_ptr<labelport::store::Database> database = *std::move(opened_database);
  labelport::store::RunStore* const store = &database->run_store();
  // Run record changes reach watchers by notification (DESIGN.md §11): those
  // made here through `run_store`, and with PostgreSQL those of every
  // replica through LISTEN/NOTIFY.
  labelport::store::InProcessRunChangeNotifier run_changes;
  labelport::store::NotifyingRunStore run_store(store, &run_changes);
  auto change_listener = database->ListenForRunChanges(&run_changes);
  if (!change_listener.ok()) {
    LogError(absl::StrCat("cannot listen for run changes: ", change_listener.status().message()));
    return 1;
  }
  auto metrics = labelport::metrics::PrometheusMetrics::Create({.listen = config->metrics_listen});
  if (!metrics.ok()) {
    LogError(absl::StrCat("--metrics_listen: ", metrics.status().message()));
    return 1;
  }
  // Parts of the database: the live replicas (to share the V7 rate limit)
  // and the runs-by-state count of the metrics.
  labelport::store::ReplicaDirectory* const replicas = &database->replica_directory();
  // The source shares the database: a scrape may come until the metrics
  // endpoint itself is gone.
  // Shared by the metrics (all tenants) and the runs-in-flight quota (per tenant).
  const auto run_state_counter =
      std::shared_ptr<labelport::store::RunStateCounter>(database, &database->run_state_counter());
  (*metrics)->SetRunCountSource(
      [counter =
           run_state_counter]() -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
        auto counts = counter->CountRunsByState();
        if (!counts.ok()) return counts.status();
        std::vector<std::pair<std::string, int64_t>> named;
        for (const auto& [state, count] : *counts) {
          named.emplace_back(absl::StripPrefix(labelport::v1::RunState_Name(state), "RUN_STATE_"),
                             count);
        }
        return named;
      });
  // V7 I/O: one io_context run by --io_threads threads; HTTP with pooled
  // keep-alive connections, one rate limiter per key. V7 calls are retried
  // by DarwinClient alone (it judges bodies and looks up before
  // re-creating), so this stack has no retry layer.
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  auto http_client = labelport::http::BeastHttpClient::Create(
      io.get_executor(), {.ca_file = config->darwin_ca_file,
                          .max_connections_per_host = config->darwin_max_connections});
  if (!http_client.ok()) {
    LogError(absl::StrCat("cannot set up HTTPS: ", http_client.status().message()));
    return 1;
  }
  auto limiter = labelport::http::TokenBucketRateLimiter::Create(
      {.requests_per_minute = static_cast<double>(config->darwin_rate_limit_per_minute),
       .burst = config->darwin_rate_burst,
       .metrics = metrics->get()});
  if (!limiter.ok()) {
    LogError(absl::StrCat("bad rate limit: ", limiter.status().message()));
    return 1;
  }
  // Every attempt, retries included, takes a token: the limiter sits under
  // the retry layer (DarwinClient).
  // Every attempt is counted (by endpoint template and status) right above
  // the transport.
  labelport::http::MeteredHttpClient metered_http(http_client->get(), metrics->get());
  // A 429 slows the key's limiter down, except V7's storage quota (§1.6),
  // which waiting does not cure.
  labelport::http::RateLimitedHttpClient limited_http(
      &metered_http, limiter->get(),
      {.is_throttled = [](const labelport::http::HttpResponse& response) {
        return response.status == 429 &&
               !absl::StrContains(response.body, "INSUFFICIENT_REMAINING_STORAGE");
      }});
  labelport::backend::darwin::DarwinClient::Options v7_client_options;
  v7_client_options.retry.max_attempts = config->darwin_retry_attempts;
  v7_client_options.retry_hooks.on_event = labelport::http::RetryMetricsRecorder(metrics->get());
  // Media URLs: their own stack (see the file comment). The egress policy
  // is checked on each resolved address right before connecting.
  auto egress = labelport::http::EgressPolicy::Create(config->media_url_allow);
  if (!egress.ok()) {
    LogError(absl::StrCat("--media_url_allow: ", egress.status().message()));
    return 1;
  }
  auto media_client = labelport::http::BeastHttpClient::Create(
      io.get_executor(),
      {.ca_file = config->darwin_ca_file,
       .endpoint_filter = [policy = *egress](absl::string_view host,
                                             const boost::asio::ip::address& address) {
         return policy.CheckAddress(host, address);
       }});
  if (!media_client.ok()) {
    LogError(
        absl::StrCat("cannot set up the media HTTP client: ", media_client.status().message()));
    return 1;
  }
  labelport::http::MeteredHttpClient metered_media(media_client->get(), metrics->get(),
                                                   kMediaFetchEndpoint);
  labelport::http::RetryingHttpClient::Hooks media_retry_hooks;
  media_retry_hooks.on_event =
      labelport::http::RetryMetricsRecorder(metrics->get(), kMediaFetchEndpoint);
  labelport::http::RetryPolicy media_retry;
  media_retry.max_attempts = 3;
  labelport::http::RetryingHttpClient media_http(&metered_media, media_retry,
                                                 std::move(media_retry_hooks));
  if (!config->media_url_allow.empty())
    LogInfo(absl::StrCat("media URLs may also reach: ", config->media_url_allow));
  // N replicas on one store share --darwin_rate_limit_per_minute and
  // --darwin_rate_burst equally.
  labelport::core::ReplicaRateShare rate_share(
      replicas,
      [limiter = limiter->get()](double per_minute, int burst) {
        (void)limiter->SetRate(per_minute, burst);
      },
      {.replica_id = config->worker_id,
       .total_requests_per_minute = static_cast<double>(config->darwin_rate_limit_per_minute),
       .total_burst = config->darwin_rate_burst,
       .ttl = absl::Seconds(3 * config->readiness_interval_seconds)},
      metrics->get());
  labelport::common::PeriodicThread heartbeat(
      absl::Seconds(config->readiness_interval_seconds), [&rate_share] {
        auto live = rate_share.Refresh();
        if (!live.ok()) {
          labelport::common::LogWarning(absl::StrCat(
              "replica heartbeat failed (keeping the current V7 rate): ", live.status().message()));
        }
      });
  heartbeat.Start();
  if (config->auth_mode == AuthMode::kNone && config->darwin_api_key.empty()) {
    LogWarning(
        "no V7 API key (set FIFTYONE_DARWIN_API_KEY or --darwin_api_key_file): runs can be "
        "created but not uploaded");
  }
  if (config->auth_mode != AuthMode::kNone && !config->darwin_api_key.empty()) {
    LogWarning(
        "FIFTYONE_DARWIN_API_KEY / --darwin_api_key_file is ignored with --auth=token or mtls: "
        "each tenant's V7 key comes from the tenants file");
  }
  const std::string media_dir = absl::StrCat(config->data_dir, "/media");
  labelport::store::TenantContentStores content_stores(media_dir,
                                                       config->max_media_bytes_per_tenant);
  if (auto opened = content_stores.ForTenant(std::string(labelport::auth::kDefaultTenant));
      !opened.ok()) {
    LogError(absl::StrCat("cannot open the media store: ", opened.status().message()));
    return 1;
  }
  // The V7 account of a tenant; errors reach the caller (never a key).
  const labelport::server::TenantAccounts accounts(*config, tenants.get(), media_dir);
  auto account_of = [&accounts](const std::string& tenant) { return accounts.Lookup(tenant); };
  // CPU-heavy work of every load (zip reading, parsing, merges) runs on this
  // one bounded pool, never on the I/O threads (--cpu_threads).
  labelport::common::CpuPool cpu_pool(config->cpu_threads);
  labelport::backend::darwin::DarwinBackend::Options backend_options;
  backend_options.cpu_pool = &cpu_pool;
  backend_options.upload_concurrency = config->upload_concurrency;
  backend_options.import_concurrency = config->import_concurrency;
  backend_options.processing_timeout = absl::Seconds(config->processing_timeout_seconds);
  backend_options.export_timeout = absl::Seconds(config->export_timeout_seconds);
  backend_options.export_cleanup_timeout = absl::Seconds(config->export_cleanup_timeout_seconds);
  backend_options.outage_max_wait = absl::Seconds(config->darwin_outage_wait_seconds);
  // Media paths never read the server's own files, whatever root holds them.
  auto* tenant_directory = tenants.get();
  backend_options.media_paths.protected_files =
      std::make_shared<const labelport::common::ProtectedFiles>(
          std::vector<std::string>{config->data_dir}, labelport::config::ServerOwnFiles(*config),
          tenant_directory == nullptr
              ? labelport::common::ProtectedFiles::Lister()
              : [tenant_directory] { return tenant_directory->ApiKeyFiles(); });
  backend_options.temp_dir = *temp_dir;
  backend_options.media_fetch_timeout = absl::Seconds(config->media_fetch_timeout_seconds);
  backend_options.media_fetch.max_bytes = config->max_media_bytes;
  backend_options.media_fetch.stall_timeout = absl::Seconds(config->media_fetch_stall_seconds);
  labelport::backend::darwin::DarwinBackendProvider backends(&limited_http, &media_http, account_of,
                                                             backend_options, v7_client_options);
  if (tenants == nullptr && !config->darwin_api_key.empty()) {
    if (auto checked = backends.BackendFor(std::string(labelport::auth::kDefaultTenant));
        !checked.ok()) {
      LogError(absl::StrCat("bad V7 settings: ", checked.status().message()));
      return 1;
    }
  }
  if (tenants != nullptr) {
    for (const std::string& tenant : tenants->TenantNames()) {
      if (auto checked = backends.BackendFor(tenant); !checked.ok())
        LogWarning(std::string(checked.status().message()));
    }
  }
  // The store calls of the upload worker and of loads, status and clean-up
  // (declared after `io`: destroyed, and its threads joined, before it).
  boost::asio::thread_pool store_pool(config->store_threads);
  labelport::core::RunWorker worker(
      &run_store, &backends, io.get_executor(),
      {.owner_id = config->worker_id,
       .lease_ttl = absl::Seconds(config->lease_ttl_seconds),
       .max_concurrent_runs = config->max_concurrent_runs,
       .max_concurrent_runs_per_tenant = config->max_concurrent_runs_per_tenant,
       .metrics = metrics->get(),
       .store_pool = &store_pool});
  std::vector<std::thread> io_threads;
  io_threads.reserve(static_cast<size_t>(config->io_threads));
  for (int i = 0; i < config->io_threads; ++i) io_threads.emplace_back([&io] { io.run(); });
  // An error return below (a port that cannot be bound, ...) must stop the
  // worker and join the I/O threads: destroying joinable threads would abort
  // the process instead of exiting with the error.
  absl::Cleanup stop_io_on_error_return = [&] {
    if (io_threads.empty()) return;
    worker.Stop();
    work.reset();
    io.stop();
    for (auto& t : io_threads) t.join();
  };
  // Without authentication and without a key nothing can be uploaded: runs
  // stay PENDING until a key is configured (and the server restarted).
  if (tenants != nullptr || !config->darwin_api_key.empty()) worker.Start();

  const labelport::core::RunQuota run_quota(run_state_counter.get(),
                                            config->max_runs_in_flight_per_tenant);
  labelport::core::RunRegistry registry(
      &run_store, &backends, nullptr, [&worker] { worker.Wake(); }, {.owner = config->worker_id},
      [&accounts](const std::string& tenant) { return accounts.MediaRootsOf(tenant); }, &run_quota);
  // CreateRun calls of this worker's previous process are gone: their spools
  // go now; spools that expired (stalled calls, replicas that are gone) go
  // every minute.
  registry.DiscardStaleSpools(/*at_start=*/true);
  labelport::common::PeriodicThread spool_sweeper(
      absl::Minutes(1), [&registry] { registry.DiscardStaleSpools(/*at_start=*/false); });
  spool_sweeper.Start();
  boost::asio::thread_pool executor(config->worker_threads);
  labelport::core::RunOperations operations(&run_store, &backends, metrics->get(), &cpu_pool,
                                            &store_pool);
  labelport::api::Authenticator authenticator(config->auth_mode, tenants.get());
  labelport::core::RunWatchHub watch_hub(&run_store, &run_changes, executor.get_executor());
  labelport::api::AnnotationServiceImpl service(
      &registry, &content_stores, &executor, io.get_executor(), &operations, &authenticator,
      &watch_hub,
      {.max_samples = config->max_run_samples,
       .max_bytes = int64_t{config->max_create_run_mb} << 20});
  std::unique_ptr<labelport::server::TenantsReloader> reloader;
  if (tenants != nullptr)
    reloader = std::make_unique<labelport::server::TenantsReloader>(
        tenants.get(), absl::Seconds(config->tenants_reload_seconds));

  LogInfo(absl::StrCat("auth=", labelport::auth::AuthModeName(config->auth_mode),
                       " tls=", config->tls_cert.empty() ? "off" : "on",
                       config->tls_client_ca.empty() ? "" : " (client certificates required)"));
  if (tenants != nullptr)
    LogInfo(absl::StrCat("tenants: ", absl::StrJoin(tenants->TenantNames(), ", ")));
  if (config->auth_mode == AuthMode::kNone && config->media_roots.empty()) {
    LogWarning(
        "media paths: the whole file system is a media root (--auth=none without "
        "--media_root), except the server's own files (data dir, store, key, tenants and TLS "
        "files)");
  } else {
    LogInfo(absl::StrCat("media roots of every tenant: ",
                         config->media_roots.empty() ? "none (--media_root not given)"
                                                     : absl::StrJoin(config->media_roots, ", "),
                         tenants != nullptr ? "; plus each tenant's own media_roots" : ""));
  }
  if (config->auth_mode == AuthMode::kNone) {
    LogWarning(labelport::config::IsLoopbackListenAddress(config->listen)
                   ? "no authentication (--auth=none): every caller is tenant 'default'; "
                     "development mode"
                   : "no authentication (--auth=none) on a non-loopback address "
                     "(--allow_insecure_remote): anyone who reaches this port acts as tenant "
                     "'default'");
  } else if (config->tls_cert.empty()) {
    LogWarning(
        "--auth=token without TLS: bearer tokens travel in clear text; give --tls_cert "
        "and --tls_key unless TLS ends in front of this server");
  }

  grpc::EnableDefaultHealthCheckService(true);
  auto reflection_catalog = labelport::reflection::DescriptorCatalog::Create(
      labelport::proto::DescriptorSetBytes(),
      {kServiceName, kHealthServiceName,
       std::string(grpc::reflection::v1::ServerReflection::service_full_name()),
       std::string(grpc::reflection::v1alpha::ServerReflection::service_full_name())});
  if (!reflection_catalog.ok()) {
    LogError(std::string(reflection_catalog.status().message()));
    return 1;
  }
  labelport::reflection::ServerReflectionV1 reflection_v1(reflection_catalog->get());
  labelport::reflection::ServerReflectionV1Alpha reflection_v1alpha(reflection_catalog->get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config->listen, *listener_credentials, &port);
  builder.SetMaxReceiveMessageSize(config->max_message_mb * 1024 * 1024);
  if (config->max_connection_age_seconds > 0) {
    // Clients reconnect now and then, and so spread over new replicas.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               config->max_connection_age_seconds * 1000);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               config->max_connection_age_grace_seconds * 1000);
  }
  builder.SetMaxSendMessageSize(config->max_message_mb * 1024 * 1024);
  builder.RegisterService(&service);
  builder.RegisterService(&reflection_v1);
  builder.RegisterService(&reflection_v1alpha);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<labelport::api::RpcTelemetryInterceptorFactory>(metrics->get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogError(absl::StrCat("cannot listen on '", config->listen, "'"));
    return 1;
  }
  std::unique_ptr<labelport::server::HealthPort> health_port;
  if (!config->health_listen.empty()) {
    auto started = labelport::server::HealthPort::Start(config->health_listen);
    if (!started.ok()) {
      LogError(std::string(started.status().message()));
      return 1;
    }
    health_port = *std::move(started);
  }
  std::vector<grpc::HealthCheckServiceInterface*> health_services = {
      server->GetHealthCheckService()};
  if (health_port != nullptr) health_services.push_back(health_port->health());
  labelport::server::HealthStatuses health(std::move(health_services));
  health.Set(kLivenessName, true);
  std::vector<labelport::core::DependencyCheck> checks;
  checks.push_back({"store", [store] {
                      auto listed = store->ListClaimableRuns(1, "");
                      return listed.status();
                    }});
  // V7 is watched with its own clients (no retries, a short deadline), for
  // the metric and the log only: readiness does not follow it.
  labelport::server::V7HealthCheck v7_check(&accounts, &limited_http, &io, kV7CheckTimeout);
  if (tenants != nullptr || !config->darwin_api_key.empty())
    checks.push_back(
        {"v7", [&v7_check] { return v7_check.Check(); }, /*required_for_readiness=*/false});
  labelport::core::ReadinessMonitor readiness(
      std::move(checks),
      [&health](bool ready) {
        health.Set("", ready);
        health.Set(kServiceName, ready);
      },
      metrics->get());
  readiness.CheckNow();
  labelport::common::PeriodicThread readiness_thread(
      absl::Seconds(config->readiness_interval_seconds), [&readiness] { readiness.CheckNow(); });
  readiness_thread.Start();
  const std::string host = config->listen.substr(0, config->listen.rfind(':'));
  // Whoever waits for the line below finds every start-up line in the log.
  labelport::common::FlushLogs();
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  LogInfo(absl::StrCat("labelport-server listening on ", host, ":", port,
                       " store=", labelport::store::DescribeDatabase(store_location),
                       " darwin=", config->darwin_url, " worker=", config->worker_id));
  if (health_port != nullptr) {
    LogInfo(absl::StrCat("health (grpc.health.v1 only, plaintext) on ",
                         config->health_listen.substr(0, config->health_listen.rfind(':')), ":",
                         health_port->port()));
  }
  if ((*metrics)->port() != 0) {
    LogInfo(absl::StrCat("metrics on http://",
                         config->metrics_listen.substr(0, config->metrics_listen.rfind(':')), ":",
                         (*metrics)->port(), "/metrics"));
  }

  int signal_number = 0;
  while (true) {
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (reloader != nullptr) reloader->ReloadNow("SIGHUP");
  }
  reloader.reset();
  LogInfo(absl::StrCat("received ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                       "; draining for up to ", config->drain_seconds, "s"));
  readiness_thread.Stop();
  health.SetAll(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(config->drain_seconds));
  // Probes see NOT_SERVING on this port until the main port has drained.
  if (health_port != nullptr) health_port->Shutdown(std::chrono::system_clock::now());
  executor.join();
  worker.Stop();
  heartbeat.Stop();
  (void)rate_share.Leave();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  io_threads.clear();
  LogInfo("labelport-server stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
