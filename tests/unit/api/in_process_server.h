// InProcessServer: the real labelport gRPC service, wired as
// labelport-server wires it (service/server/server_components.cc), with
// a FakeAnnotationBackend in place of V7 and a real grpc::Server that the
// test reaches through its in-process channel (no port, no network), as
// TF Serving tests its handlers.
//
// Wiring: a SQLite run store in a fresh temporary directory behind the
// in-process change notifier (NotifyingRunStore), its run-state counter
// behind the runs-in-flight quota (RunQuota); per-tenant content stores
// under <dir>/media; a RunWorker claiming runs on an io_context (the fake
// backend "uploads" them); RunRegistry (waking the worker), RunOperations,
// RunWatchHub; the Authenticator of the chosen auth mode over a tenants
// file written to <dir>/tenants.json; AnnotationServiceImpl; the
// RpcTelemetryInterceptorFactory over a FakeMetrics. What labelport-server
// adds around that (flags, listeners and TLS, health, reflection, V7 HTTP
// stacks, signals) is not here.
//
// Tear-down (the destructor) releases every held backend call, shuts the
// server down (calls still running after 10 s are cancelled), waits for the
// worker's jobs to end and stops the threads, in labelport-server's order,
// then joins the store pool before the worker is destroyed (a store call of
// the worker's claim loop may still be running there); the temporary
// directory is removed.
#ifndef LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_H_
#define LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_service.grpc.pb.h"
#include "service/api/annotation_service_impl.h"
#include "service/api/authenticator.h"
#include "service/auth/auth_mode.h"
#include "service/auth/tenant_directory.h"
#include "service/common/cpu_pool.h"
#include "service/core/run_operations.h"
#include "service/core/run_quota.h"
#include "service/core/run_registry.h"
#include "service/core/run_watch_hub.h"
#include "service/core/run_worker.h"
#include "service/store/database.h"
#include "service/store/in_process_run_change_notifier.h"
#include "service/store/notifying_run_store.h"
#include "service/store/run_store.h"
#include "service/store/tenant_content_stores.h"
#include "tests/support/fake_backend/fake_annotation_backend.h"
#include "tests/unit/common/fake_metrics.h"

namespace labelport::testing {

struct InProcessServerOptions {
  auth::AuthMode auth_mode = auth::AuthMode::kNone;
  // With kToken: the tenants and each one's bearer token (the tenants file
  // lists their SHA-256); with kMtls: the tenants and each one's client
  // identity.
  struct Tenant {
    std::string name;
    std::string token;
    std::string client_identity;
  };
  std::vector<Tenant> tenants;
  api::CreateRunLimits create_run_limits;
  // Each tenant's media quota (<= 0: unlimited).
  int64_t max_media_bytes_per_tenant = 0;
  // Each tenant's runs in flight (--max_runs_in_flight_per_tenant; <= 0:
  // unlimited).
  int max_runs_in_flight_per_tenant = 0;
};

class InProcessServer {
 public:
  // Builds and starts everything; errors name the step that failed.
  static absl::StatusOr<std::unique_ptr<InProcessServer>> Start(
      InProcessServerOptions options = {});
  ~InProcessServer();
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  // A stub over the in-process channel (shared by every call of a test).
  labelport::v1::AnnotationService::Stub& stub() { return *stub_; }
  // The in-process channel itself (e.g. for a grpc::GenericStub).
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  FakeAnnotationBackend& backend() { return *backend_; }
  FakeBackendProvider& backends() { return *backends_; }
  FakeMetrics& metrics() { return metrics_; }
  core::RunWatchHub& watch_hub() { return *watch_hub_; }
  store::InProcessRunChangeNotifier& run_changes() { return run_changes_; }

 private:
  InProcessServer() = default;
  absl::Status Build(const InProcessServerOptions& options);
  void Stop();

  std::string dir_;
  FakeMetrics metrics_;
  std::unique_ptr<auth::TenantDirectory> tenants_;
  std::unique_ptr<store::Database> database_;
  store::InProcessRunChangeNotifier run_changes_;
  std::unique_ptr<store::NotifyingRunStore> run_store_;
  std::unique_ptr<core::RunQuota> run_quota_;
  std::unique_ptr<store::TenantContentStores> content_stores_;
  std::shared_ptr<FakeAnnotationBackend> backend_;
  std::unique_ptr<FakeBackendProvider> backends_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<common::CpuPool> cpu_pool_;
  std::unique_ptr<boost::asio::thread_pool> store_pool_;
  std::unique_ptr<core::RunWorker> worker_;
  std::vector<std::thread> io_threads_;
  std::unique_ptr<core::RunRegistry> registry_;
  std::unique_ptr<boost::asio::thread_pool> executor_;
  std::unique_ptr<core::RunOperations> operations_;
  std::unique_ptr<api::Authenticator> authenticator_;
  std::unique_ptr<core::RunWatchHub> watch_hub_;
  std::unique_ptr<api::AnnotationServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<labelport::v1::AnnotationService::Stub> stub_;
  bool stopped_ = false;
};

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_H_
