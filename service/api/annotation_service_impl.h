// AnnotationServiceImpl: the gRPC callback handlers of labelport.v1.
//
// Handlers never block a gRPC thread: each request is decoded here, the
// use case runs on `executor` (the registry's, which block) or as a
// coroutine on `io` (the run operations': load, status, clean-up), and the
// reactor is finished from there.
// GetRun and ListRuns run on the gRPC thread itself when the store's reads
// never wait (RunStore::ReadsAreLocal: SQLite's read connections), since
// the hop to the executor would cost more than the read.
// Errors are converted once, by ToGrpcStatus. Every RPC of
// labelport.v1.AnnotationService has a handler here; none answers
// UNIMPLEMENTED.
#ifndef LABELPORT_SERVICE_API_ANNOTATION_SERVICE_IMPL_H_
#define LABELPORT_SERVICE_API_ANNOTATION_SERVICE_IMPL_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_service.grpc.pb.h"
#include "service/api/authenticator.h"
#include "service/core/limits.h"
#include "service/core/run_operations.h"
#include "service/core/run_registry.h"
#include "service/core/run_watch_hub.h"
#include "service/store/tenant_content_stores.h"

namespace labelport::api {

// Caps of one CreateRun call (--max_run_samples, --max_create_run_mb); the
// other request bounds are fixed (service/core/limits.h).
struct CreateRunLimits {
  int64_t max_samples = core::kMaxSamplesPerRun;
  int64_t max_bytes = core::kMaxCreateRunBytes;
};

class AnnotationServiceImpl final : public labelport::v1::AnnotationService::CallbackService {
 public:
  // `registry`, `content_stores` (uploaded media), `executor` (runs blocking
  // use cases and media writes) and the io_context behind `io` (the run
  // operations' coroutines, timers of streaming calls) must outlive the
  // service, as must
  // `operations` (load, status, cleanup), `authenticator` and `watch_hub`
  // (WatchRun's notifications).
  AnnotationServiceImpl(core::RunRegistry* registry, store::TenantContentStores* content_stores,
                        boost::asio::thread_pool* executor, boost::asio::any_io_executor io,
                        core::RunOperations* operations, const Authenticator* authenticator,
                        core::RunWatchHub* watch_hub, CreateRunLimits create_run_limits = {});

  grpc::ServerUnaryReactor* FindMissingMedia(
      grpc::CallbackServerContext* context, const labelport::v1::FindMissingMediaRequest* request,
      labelport::v1::FindMissingMediaResponse* response) override;
  grpc::ServerReadReactor<labelport::v1::UploadMediaRequest>* UploadMedia(
      grpc::CallbackServerContext* context, labelport::v1::UploadMediaResponse* response) override;
  grpc::ServerReadReactor<labelport::v1::CreateRunRequest>* CreateRun(
      grpc::CallbackServerContext* context, labelport::v1::CreateRunResponse* response) override;
  grpc::ServerWriteReactor<labelport::v1::WatchRunResponse>* WatchRun(
      grpc::CallbackServerContext* context, const labelport::v1::WatchRunRequest* request) override;
  grpc::ServerUnaryReactor* GetRun(grpc::CallbackServerContext* context,
                                   const labelport::v1::GetRunRequest* request,
                                   labelport::v1::GetRunResponse* response) override;
  grpc::ServerUnaryReactor* ListRuns(grpc::CallbackServerContext* context,
                                     const labelport::v1::ListRunsRequest* request,
                                     labelport::v1::ListRunsResponse* response) override;
  grpc::ServerUnaryReactor* RenameRun(grpc::CallbackServerContext* context,
                                      const labelport::v1::RenameRunRequest* request,
                                      labelport::v1::RenameRunResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRun(grpc::CallbackServerContext* context,
                                      const labelport::v1::DeleteRunRequest* request,
                                      labelport::v1::DeleteRunResponse* response) override;
  grpc::ServerUnaryReactor* GetRunStatus(grpc::CallbackServerContext* context,
                                         const labelport::v1::GetRunStatusRequest* request,
                                         labelport::v1::GetRunStatusResponse* response) override;
  grpc::ServerWriteReactor<labelport::v1::LoadAnnotationsResponse>* LoadAnnotations(
      grpc::CallbackServerContext* context,
      const labelport::v1::LoadAnnotationsRequest* request) override;
  grpc::ServerUnaryReactor* CleanupRun(grpc::CallbackServerContext* context,
                                       const labelport::v1::CleanupRunRequest* request,
                                       labelport::v1::CleanupRunResponse* response) override;
  grpc::ServerUnaryReactor* ListRunSamples(
      grpc::CallbackServerContext* context, const labelport::v1::ListRunSamplesRequest* request,
      labelport::v1::ListRunSamplesResponse* response) override;
  grpc::ServerUnaryReactor* ResumeRun(grpc::CallbackServerContext* context,
                                      const labelport::v1::ResumeRunRequest* request,
                                      labelport::v1::ResumeRunResponse* response) override;

 private:
  template <typename Request, typename Response>
  using RegistryUseCase = absl::StatusOr<Response> (core::RunRegistry::*)(const std::string&,
                                                                          const Request&);
  template <typename Request, typename Response>
  using OperationsUseCase = boost::asio::awaitable<absl::StatusOr<Response>> (
      core::RunOperations::*)(std::string, Request);

  // Answers a unary call with the registry's `use_case` for the caller's
  // tenant: on the calling gRPC thread when `on_caller_thread` (reads that
  // never wait, RunStore::ReadsAreLocal), on the executor otherwise. A caller
  // that fails authentication is rejected with the authenticator's status.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* AnswerFromRegistry(grpc::CallbackServerContext* context,
                                               const Request* request, Response* response,
                                               RegistryUseCase<Request, Response> use_case,
                                               bool on_caller_thread = false);
  // Answers a unary call with the awaitable `use_case` of the run operations
  // for the caller's tenant, run on the io_context; the caller's cancellation
  // and deadline reach it. Authentication as in AnswerFromRegistry.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* AnswerFromOperations(grpc::CallbackServerContext* context,
                                                 const Request* request, Response* response,
                                                 OperationsUseCase<Request, Response> use_case);

  core::RunRegistry* registry_;
  store::TenantContentStores* content_stores_;
  boost::asio::thread_pool* executor_;
  boost::asio::any_io_executor io_;
  core::RunOperations* operations_;
  const Authenticator* authenticator_;
  core::RunWatchHub* watch_hub_;
  CreateRunLimits create_run_limits_;
};

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_ANNOTATION_SERVICE_IMPL_H_
