#include "tests/unit/api/in_process_server.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/rpc_telemetry_interceptor.h"
#include "service/common/sha256.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {
namespace {

constexpr char kWorkerId[] = "in-process-worker";

// The tenants file of `options` (tenants_file.h), as JSON text.
std::string TenantsFileText(const InProcessServerOptions& options) {
  std::vector<std::string> entries;
  for (const auto& tenant : options.tenants) {
    std::string entry = absl::StrCat(R"({"name": ")", tenant.name, R"(")");
    if (!tenant.token.empty())
      absl::StrAppend(&entry, R"(, "token_sha256": [")", common::Sha256Hex(tenant.token), R"("])");
    if (!tenant.client_identity.empty())
      absl::StrAppend(&entry, R"(, "client_identities": [")", tenant.client_identity, R"("])");
    entries.push_back(entry + "}");
  }
  return absl::StrCat(R"({"tenants": [)", absl::StrJoin(entries, ", "), "]}");
}

}  // namespace

absl::StatusOr<std::unique_ptr<InProcessServer>> InProcessServer::Start(
    InProcessServerOptions options) {
  std::unique_ptr<InProcessServer> server(new InProcessServer());
  absl::Status built = server->Build(options);
  if (!built.ok()) return built;
  return server;
}

absl::Status InProcessServer::Build(const InProcessServerOptions& options) {
  std::string dir =
      (std::filesystem::temp_directory_path() / "labelport_in_process_XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr)
    return absl::InternalError(absl::StrCat("cannot create a temporary directory from ", dir));
  dir_ = dir;

  if (options.auth_mode != auth::AuthMode::kNone) {
    const std::string path = dir_ + "/tenants.json";
    std::ofstream(path) << TenantsFileText(options);
    auto loaded = auth::TenantDirectory::Load(path, {.data_dir = dir_ + "/data"});
    if (!loaded.ok())
      return absl::InternalError(absl::StrCat("tenants file: ", loaded.status().message()));
    tenants_ = *std::move(loaded);
  }
  auto database = store::OpenDatabase({.sqlite_path = dir_ + "/runs.db"});
  if (!database.ok())
    return absl::InternalError(absl::StrCat("database: ", database.status().message()));
  database_ = *std::move(database);
  // Changes made through the service reach WatchRun by notification.
  run_store_ = std::make_unique<store::NotifyingRunStore>(&database_->run_store(), &run_changes_);
  run_quota_ = std::make_unique<core::RunQuota>(&database_->run_state_counter(),
                                                options.max_runs_in_flight_per_tenant);
  content_stores_ = std::make_unique<store::TenantContentStores>(
      dir_ + "/media", options.max_media_bytes_per_tenant);

  backend_ = std::make_shared<FakeAnnotationBackend>();
  backends_ = std::make_unique<FakeBackendProvider>(backend_);
  work_.emplace(boost::asio::make_work_guard(io_));
  cpu_pool_ = std::make_unique<common::CpuPool>(2);
  store_pool_ = std::make_unique<boost::asio::thread_pool>(2);
  core::RunWorker::Options worker_options;
  worker_options.owner_id = kWorkerId;
  worker_options.poll_interval = absl::Milliseconds(100);
  worker_options.metrics = &metrics_;
  worker_options.store_pool = store_pool_.get();
  worker_ = std::make_unique<core::RunWorker>(run_store_.get(), backends_.get(), io_.get_executor(),
                                              worker_options);
  for (int i = 0; i < 2; ++i) io_threads_.emplace_back([this] { io_.run(); });
  worker_->Start();
  registry_ = std::make_unique<core::RunRegistry>(
      run_store_.get(), backends_.get(), nullptr, [worker = worker_.get()] { worker->Wake(); },
      core::RunSpoolOptions{.owner = kWorkerId, .ttl = absl::Minutes(15)},
      /*media_roots=*/nullptr, run_quota_.get());
  executor_ = std::make_unique<boost::asio::thread_pool>(2);
  operations_ = std::make_unique<core::RunOperations>(run_store_.get(), backends_.get(), &metrics_,
                                                      cpu_pool_.get(), store_pool_.get());
  authenticator_ = std::make_unique<api::Authenticator>(options.auth_mode, tenants_.get());
  watch_hub_ = std::make_unique<core::RunWatchHub>(run_store_.get(), &run_changes_,
                                                   executor_->get_executor());
  service_ = std::make_unique<api::AnnotationServiceImpl>(
      registry_.get(), content_stores_.get(), executor_.get(), io_.get_executor(),
      operations_.get(), authenticator_.get(), watch_hub_.get(), options.create_run_limits);

  grpc::ServerBuilder builder;
  builder.RegisterService(service_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<api::RpcTelemetryInterceptorFactory>(&metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) return absl::InternalError("the gRPC server did not start");
  channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  stub_ = labelport::v1::AnnotationService::NewStub(channel_);
  return absl::OkStatus();
}

void InProcessServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (backend_ != nullptr) backend_->ReleaseAll();
  if (server_ != nullptr)
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (executor_ != nullptr) executor_->join();
  if (worker_ != nullptr) {
    EXPECT_TRUE(WaitUntil([this] { return worker_->active_jobs() == 0; }, absl::Seconds(10),
                          "the worker's jobs ended"));
    worker_->Stop();
  }
  work_.reset();
  io_.stop();
  for (auto& thread : io_threads_) thread.join();
  io_threads_.clear();
  // Store calls the worker's loop sent to the pool may still run (reading the
  // worker): they end before the worker is destroyed.
  if (store_pool_ != nullptr) store_pool_->join();
}

InProcessServer::~InProcessServer() {
  Stop();
  stub_.reset();
  channel_.reset();
  server_.reset();
  service_.reset();
  watch_hub_.reset();
  operations_.reset();
  registry_.reset();
  worker_.reset();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

}  // namespace labelport::testing
