// labelport-server: wires config, store, core and the gRPC API together, and
// owns the process life cycle (start-up, health, graceful shutdown).
//
// The first line on stdout is "listening on HOST:PORT" once the server
// accepts calls (tests rely on it when --listen uses port 0).
// SIGTERM / SIGINT: health turns NOT_SERVING, in-flight calls get
// --drain_seconds to finish, then the process exits 0.
//
// Health: "" and "labelport.v1.AnnotationService" are readiness: SERVING
// while the store answers and V7 accepts the key (checked every
// --readiness_interval_seconds; without a key, the store alone). "liveness"
// is SERVING from start-up to SIGTERM, whatever V7 does.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "service/api/annotation_service_impl.h"
#include "service/api/rpc_telemetry_interceptor.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/common/log.h"
#include "service/common/periodic_thread.h"
#include "service/config/server_config.h"
#include "service/core/readiness_monitor.h"
#include "service/core/replica_rate_share.h"
#include "service/core/run_operations.h"
#include "service/core/run_registry.h"
#include "service/core/run_worker.h"
#include "service/http/beast_http_client.h"
#include "service/http/metered_http_client.h"
#include "service/http/rate_limited_http_client.h"
#include "service/http/retry_metrics.h"
#include "service/http/retrying_http_client.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "service/metrics/prometheus_metrics.h"
#include "service/store/content_store.h"
#include "service/store/replica_directory_factory.h"
#include "service/store/run_state_counter_factory.h"
#include "service/store/run_store_factory.h"

namespace {

using labelport::common::LogError;
using labelport::common::LogInfo;

constexpr char kServiceName[] = "labelport.v1.AnnotationService";
constexpr char kLivenessName[] = "liveness";
// Bounds of one V7 readiness check (the probe client does not retry).
constexpr absl::Duration kV7CheckTimeout = absl::Seconds(5);

int Run(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so that only the
  // sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = labelport::config::LoadServerConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "labelport-server: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  labelport::common::SetLogLevel(config->log_level);
  labelport::common::SetJsonLogs(config->log_json);

  std::error_code ec;
  std::filesystem::create_directories(config->data_dir, ec);
  if (ec) {
    LogError(absl::StrCat("cannot create --data_dir '", config->data_dir, "': ", ec.message()));
    return 1;
  }
  const labelport::store::RunStoreLocation store_location{.sqlite_path = config->sqlite_path,
                                                          .postgres_url = config->postgres_url};
  auto store = labelport::store::OpenRunStore(store_location);
  if (!store.ok()) {
    LogError(absl::StrCat("cannot open the run store: ", store.status().message()));
    return 1;
  }
  auto metrics = labelport::metrics::PrometheusMetrics::Create({.listen = config->metrics_listen});
  if (!metrics.ok()) {
    LogError(absl::StrCat("--metrics_listen: ", metrics.status().message()));
    return 1;
  }
  // Beside the store: the live replicas (to share the V7 rate limit) and the
  // runs-by-state count of the metrics.
  auto replicas = labelport::store::OpenReplicaDirectory(store_location);
  auto run_counter = labelport::store::OpenRunStateCounter(store_location);
  if (!replicas.ok() || !run_counter.ok()) {
    LogError(absl::StrCat("cannot open the run store: ",
                          (replicas.ok() ? run_counter.status() : replicas.status()).message()));
    return 1;
  }
  (*metrics)->SetRunCountSource(
      [counter =
           run_counter->get()]() -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
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
  // keep-alive connections, one retry policy, one rate limiter per key.
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  auto http_client = labelport::http::BeastHttpClient::Create(io.get_executor(),
                                                              {.ca_file = config->darwin_ca_file});
  if (!http_client.ok()) {
    LogError(absl::StrCat("cannot set up HTTPS: ", http_client.status().message()));
    return 1;
  }
  auto limiter = labelport::http::TokenBucketRateLimiter::Create(
      {.requests_per_minute = static_cast<double>(config->darwin_rate_limit_per_minute),
       .metrics = metrics->get()});
  if (!limiter.ok()) {
    LogError(absl::StrCat("bad rate limit: ", limiter.status().message()));
    return 1;
  }
  // Every attempt, retries included, takes a token: the limiter sits under
  // the retry layer.
  // Every attempt is counted (by endpoint template and status) right above
  // the transport.
  labelport::http::MeteredHttpClient metered_http(http_client->get(), metrics->get());
  labelport::http::RateLimitedHttpClient limited_http(&metered_http, limiter->get());
  labelport::http::RetryingHttpClient::Hooks retry_hooks;
  retry_hooks.on_event = labelport::http::RetryMetricsRecorder(metrics->get());
  labelport::http::RetryingHttpClient retrying_http(&limited_http, {}, std::move(retry_hooks));
  // N replicas on one store share --darwin_rate_limit_per_minute equally.
  labelport::core::ReplicaRateShare rate_share(
      replicas->get(),
      [limiter = limiter->get()](double per_minute, int burst) {
        (void)limiter->SetRate(per_minute, burst);
      },
      {.replica_id = config->worker_id,
       .total_requests_per_minute = static_cast<double>(config->darwin_rate_limit_per_minute),
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
  // Readiness asks V7 with its own client: no retries, a short deadline.
  std::unique_ptr<labelport::backend::darwin::DarwinClient> probe_client;
  std::unique_ptr<labelport::backend::darwin::DarwinClient> darwin_client;
  if (config->darwin_api_key.empty()) {
    labelport::common::LogWarning(
        "no V7 API key (set FIFTYONE_DARWIN_API_KEY or --darwin_api_key_file): runs can be "
        "created but not uploaded");
  } else {
    auto created = labelport::backend::darwin::DarwinClient::Create(
        &retrying_http, /*limiter=*/nullptr,
        {.base_url = config->darwin_url, .api_key = config->darwin_api_key});
    if (!created.ok()) {
      LogError(absl::StrCat("bad V7 settings: ", created.status().message()));
      return 1;
    }
    darwin_client = *std::move(created);
    probe_client =
        *labelport::backend::darwin::DarwinClient::Create(&limited_http, /*limiter=*/nullptr,
                                                          {.base_url = config->darwin_url,
                                                           .api_key = config->darwin_api_key,
                                                           .request_timeout = kV7CheckTimeout});
  }
  const std::string media_dir = absl::StrCat(config->data_dir, "/media");
  auto content_store = labelport::store::FileContentStore::Create(media_dir);
  if (!content_store.ok()) {
    LogError(absl::StrCat("cannot open the media store: ", content_store.status().message()));
    return 1;
  }
  labelport::backend::darwin::DarwinBackend darwin_backend(
      darwin_client.get(), &retrying_http,
      {.media_dir = media_dir,
       .upload_concurrency = config->upload_concurrency,
       .processing_timeout = absl::Seconds(config->processing_timeout_seconds),
       .export_timeout = absl::Seconds(config->export_timeout_seconds)});
  labelport::core::RunWorker worker(store->get(), &darwin_backend, io.get_executor(),
                                    {.owner_id = config->worker_id,
                                     .lease_ttl = absl::Seconds(config->lease_ttl_seconds),
                                     .max_concurrent_runs = config->max_concurrent_runs,
                                     .metrics = metrics->get()});
  std::vector<std::thread> io_threads;
  for (int i = 0; i < config->io_threads; ++i) io_threads.emplace_back([&io] { io.run(); });
  if (darwin_client) worker.Start();

  labelport::core::RunRegistry registry(store->get(), nullptr, [&worker] { worker.Wake(); });
  boost::asio::thread_pool executor(config->worker_threads);
  labelport::core::RunOperations operations(store->get(), darwin_client ? &darwin_backend : nullptr,
                                            metrics->get());
  labelport::api::AnnotationServiceImpl service(&registry, content_store->get(), &executor,
                                                io.get_executor(), &operations);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config->listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(config->max_message_mb * 1024 * 1024);
  builder.SetMaxSendMessageSize(config->max_message_mb * 1024 * 1024);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(
      std::make_unique<labelport::api::RpcTelemetryInterceptorFactory>(metrics->get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogError(absl::StrCat("cannot listen on '", config->listen, "'"));
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(kLivenessName, true);
  std::vector<labelport::core::DependencyCheck> checks;
  checks.push_back({"store", [&store] {
                      auto listed = (*store)->ListClaimableRuns(1, "");
                      return listed.status();
                    }});
  if (probe_client) {
    checks.push_back(
        {"v7", [&io, probe = probe_client.get()]() -> absl::Status {
           std::future<absl::Status> checked =
               boost::asio::co_spawn(io, probe->CheckAccess(), boost::asio::use_future);
           if (checked.wait_for(absl::ToChronoSeconds(kV7CheckTimeout) + std::chrono::seconds(1)) !=
               std::future_status::ready) {
             return absl::DeadlineExceededError("V7 did not answer in time");
           }
           return checked.get();
         }});
  }
  labelport::core::ReadinessMonitor readiness(
      std::move(checks),
      [health](bool ready) {
        health->SetServingStatus("", ready);
        health->SetServingStatus(kServiceName, ready);
      },
      metrics->get());
  readiness.CheckNow();
  labelport::common::PeriodicThread readiness_thread(
      absl::Seconds(config->readiness_interval_seconds), [&readiness] { readiness.CheckNow(); });
  readiness_thread.Start();
  const std::string host = config->listen.substr(0, config->listen.rfind(':'));
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  LogInfo(absl::StrCat("labelport-server listening on ", host, ":", port,
                       " store=", labelport::store::DescribeRunStore(store_location),
                       " darwin=", config->darwin_url, " worker=", config->worker_id,
                       " (no authentication: development mode)"));
  if ((*metrics)->port() != 0) {
    LogInfo(absl::StrCat("metrics on http://",
                         config->metrics_listen.substr(0, config->metrics_listen.rfind(':')), ":",
                         (*metrics)->port(), "/metrics"));
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo(absl::StrCat("received ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                       "; draining for up to ", config->drain_seconds, "s"));
  readiness_thread.Stop();
  health->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(config->drain_seconds));
  executor.join();
  worker.Stop();
  heartbeat.Stop();
  (void)rate_share.Leave();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  LogInfo("labelport-server stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
