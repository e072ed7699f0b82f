// LoadAnnotationsReactor: the server-streaming LoadAnnotations call.
//
// The load runs as a coroutine on a strand of the io_context; each message
// it produces goes through a small bounded queue to the gRPC writer. When
// the queue is full, the producer's Push awaits space (woken from
// OnWriteDone or OnCancel): a slow client slows the load down without
// blocking an I/O thread or growing memory. Exactly one write is in flight
// at a time; messages are written in order; Finish is called once, after
// the load has ended and the queue is drained, so OnDone (which deletes the
// reactor) never races the producer.
//
// Cancellation: OnCancel (the client cancelled, or its deadline passed) and
// a failed write wake a waiting Push with CANCELLED and emit a terminal
// cancellation into the load's coroutine (on its strand), which stops its
// V7 work; the load then cleans up (deletes its V7 export) and the call
// ends CANCELLED.
#ifndef LABELPORT_SERVICE_API_LOAD_ANNOTATIONS_REACTOR_H_
#define LABELPORT_SERVICE_API_LOAD_ANNOTATIONS_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/system/error_code.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "labelport/v1/annotation_service.pb.h"
#include "service/core/run_operations.h"

namespace labelport::api {

// The cancellation of a call's coroutine, shared by the reactor and the
// handlers it posts to the coroutine's strand (which may run after the
// reactor is gone). `done` and `emitted` are touched on the strand only.
struct CallCancellation {
  explicit CallCancellation(boost::asio::any_io_executor strand) : strand(std::move(strand)) {}
  // Posts a terminal cancellation to the strand; emitted there once, unless
  // the coroutine has completed.
  static void Cancel(const std::shared_ptr<CallCancellation>& self);

  boost::asio::any_io_executor strand;
  boost::asio::cancellation_signal signal;
  bool done = false;
  bool emitted = false;
};

class LoadAnnotationsReactor final
    : public grpc::ServerWriteReactor<labelport::v1::LoadAnnotationsResponse> {
 public:
  static constexpr size_t kQueueCapacity = 32;

  // Starts the load at once, every step of it inside the scope of
  // `request_id` (for log lines). `operations` must outlive the call.
  LoadAnnotationsReactor(core::RunOperations* operations, const boost::asio::any_io_executor& io,
                         std::string tenant, std::string request_id,
                         labelport::v1::LoadAnnotationsRequest request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override { delete this; }

 private:
  // Producer side: awaits space while the queue is full; CANCELLED once the
  // client has gone away.
  boost::asio::awaitable<absl::Status> Push(labelport::v1::LoadAnnotationsResponse message);
  void Complete(const absl::Status& status);
  // Starts the next write or the Finish, if due. Call without holding mu_.
  void Pump();
  // Marks the call cancelled, wakes the producer and cancels its coroutine.
  void CancelLoad();

  const std::shared_ptr<CallCancellation> cancellation_;
  // One token: "the queue may have space, or the call was cancelled"
  // (try_send from any thread; a full channel already holds the wake-up).
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> space_;

  std::mutex mu_;
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
