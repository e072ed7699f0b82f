// LoadAnnotationsReactor: the server-streaming LoadAnnotations call.
//
// The load runs as a coroutine on the io_context; each message it produces
// goes through a small bounded queue to the gRPC writer, so a slow client
// slows the load down instead of growing memory. Exactly one write is in
// flight at a time; Finish is called once, after the load has ended and the
// queue is drained, so OnDone (which deletes the reactor) never races the
// producer.
#ifndef LABELPORT_SERVICE_API_LOAD_ANNOTATIONS_REACTOR_H_
#define LABELPORT_SERVICE_API_LOAD_ANNOTATIONS_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/any_io_executor.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "labelport/v1/annotation_service.pb.h"
#include "service/core/run_operations.h"

namespace labelport::api {

class LoadAnnotationsReactor final
    : public grpc::ServerWriteReactor<labelport::v1::LoadAnnotationsResponse> {
 public:
  static constexpr size_t kQueueCapacity = 32;

  // Starts the load at once, every step of it inside the scope of
  // `request_id` (for log lines). `operations` must outlive the call.
  LoadAnnotationsReactor(core::RunOperations* operations, boost::asio::any_io_executor io,
                         std::string tenant, std::string request_id,
                         labelport::v1::LoadAnnotationsRequest request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  // Producer side: blocks while the queue is full; CANCELLED once the client
  // has gone away.
  absl::Status Push(labelport::v1::LoadAnnotationsResponse message);
  void Complete(const absl::Status& status);
  // Starts the next write or the Finish, if due. Call without holding mu_.
  void Pump();

  std::mutex mu_;
  std::condition_variable space_;
  std::deque<labelport::v1::LoadAnnotationsResponse> queue_;
  labelport::v1::LoadAnnotationsResponse current_;
  bool writing_ = false;
  bool cancelled_ = false;
  bool producer_done_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_LOAD_ANNOTATIONS_REACTOR_H_
