// RunOperations: the use cases that ask the annotation platform about an
// existing run — LoadAnnotations, GetRunStatus and CleanupRun.
//
// Loads compute FiftyOne's merge on the service (label_merge.h) against the
// run's baseline (the uploaded labels, then the result of each load), stream
// one message per (sample, field), and commit the new baseline only when the
// whole load succeeded: a failed load changes nothing and can be retried, and
// a repeated load with V7 unchanged reports no changes.
#ifndef LABELPORT_SERVICE_CORE_RUN_OPERATIONS_H_
#define LABELPORT_SERVICE_CORE_RUN_OPERATIONS_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/backend/backend_provider.h"
#include "service/common/cpu_pool.h"
#include "service/common/metrics.h"
#include "service/store/run_store.h"

namespace labelport::core {

class RunOperations {
 public:
  // Awaited for each response message; completes once the message is
  // queued, so a slow client slows the load down without blocking a thread
  // (backpressure). An error (e.g. the client went away) aborts the load.
  using Emit =
      std::function<boost::asio::awaitable<absl::Status>(labelport::v1::LoadAnnotationsResponse)>;

  // `store` and `backends` must outlive this object. Each call works with
  // the backend of the calling tenant (who is also the run's tenant: runs
  // are looked up by tenant); when the tenant has no V7 credentials the
  // call fails with the provider's FAILED_PRECONDITION. `metrics` (labels
  // loaded per kind of change, for successful loads) may be null; it must
  // outlive this object. Loads merge samples on `cpu_pool` (the server's one
  // CPU pool; null: inline), which must outlive this object.
  //
  // Threads: the calls run on I/O threads, which never block: every store
  // call of a call is awaited on `store_pool` (the server's --store_threads
  // pool; null: a pool of two threads of this object's own), the run's V7
  // state and progress records included, which are read there before the
  // backend starts (the per-item reads of a load run on the CPU pool, with
  // the decoding). `store_pool` must outlive this object.
  //
  // Cancellation: a terminal Asio cancellation of the awaiting coroutine
  // (the caller went away or its deadline passed) stops the V7 work at its
  // next step. A cancelled load deletes its V7 export and staged baselines
  // and returns CANCELLED; GetRunStatus and CleanupRun end with the
  // cancellation (an exception out of the coroutine; CleanupRun is safe to
  // call again).
  RunOperations(store::RunStore* store, backend::BackendProvider* backends,
                common::Metrics* metrics = nullptr, common::CpuPool* cpu_pool = nullptr,
                boost::asio::thread_pool* store_pool = nullptr);

  boost::asio::awaitable<absl::Status> LoadAnnotations(
      std::string tenant, labelport::v1::LoadAnnotationsRequest request, Emit emit);
  boost::asio::awaitable<absl::StatusOr<labelport::v1::GetRunStatusResponse>> GetRunStatus(
      std::string tenant, labelport::v1::GetRunStatusRequest request);
  boost::asio::awaitable<absl::StatusOr<labelport::v1::CleanupRunResponse>> CleanupRun(
      std::string tenant, labelport::v1::CleanupRunRequest request);

 private:
  // The tenant's run of that name, read on the store pool.
  boost::asio::awaitable<absl::StatusOr<labelport::v1::AnnotationRun>> RunFor(
      const std::string& tenant, const std::string& name);

  store::RunStore* store_;
  backend::BackendProvider* backends_;
  common::Metrics* metrics_;
  common::CpuPool* cpu_pool_;
  std::unique_ptr<boost::asio::thread_pool> own_store_pool_;
  boost::asio::thread_pool* const store_pool_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_OPERATIONS_H_
