// labelport-server: wires config, store, core and the gRPC API together, and
// owns the process life cycle (start-up, health, graceful shutdown).
//
// The first line on stdout is "listening on HOST:PORT" once the server
// accepts calls (tests rely on it when --listen uses port 0).
// SIGTERM / SIGINT: health turns NOT_SERVING, in-flight calls get
// --drain_seconds to finish, then the process exits 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/thread_pool.hpp>

#include "absl/strings/str_cat.h"
#include "service/api/annotation_service_impl.h"
#include "service/common/log.h"
#include "service/config/server_config.h"
#include "service/core/run_registry.h"
#include "service/store/sqlite_run_store.h"

namespace {

using labelport::common::LogError;
using labelport::common::LogInfo;

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
  auto store = labelport::store::SqliteRunStore::Create({.path = config->sqlite_path});
  if (!store.ok()) {
    LogError(absl::StrCat("cannot open the run store: ", store.status().message()));
    return 1;
  }
  labelport::core::RunRegistry registry(store->get());
  boost::asio::thread_pool executor(config->worker_threads);
  labelport::api::AnnotationServiceImpl service(&registry, &executor);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config->listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(config->max_message_mb * 1024 * 1024);
  builder.SetMaxSendMessageSize(config->max_message_mb * 1024 * 1024);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogError(absl::StrCat("cannot listen on '", config->listen, "'"));
    return 1;
  }
  const std::string host = config->listen.substr(0, config->listen.rfind(':'));
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  LogInfo(absl::StrCat("labelport-server listening on ", host, ":", port, " store=sqlite:",
                       config->sqlite_path, " (no authentication: development mode)"));

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogInfo(absl::StrCat("received ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                       "; draining for up to ", config->drain_seconds, "s"));
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(config->drain_seconds));
  executor.join();
  LogInfo("labelport-server stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
