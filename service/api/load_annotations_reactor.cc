#include "service/api/load_annotations_reactor.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "service/api/request_scoped_executor.h"
#include "service/api/status_conversion.h"

namespace labelport::api {

namespace v1 = labelport::v1;

void CallCancellation::Cancel(const std::shared_ptr<CallCancellation>& self) {
  boost::asio::post(self->strand, [self] {
    if (self->done || self->emitted) return;
    self->emitted = true;
    self->signal.emit(boost::asio::cancellation_type::terminal);
  });
}

LoadAnnotationsReactor::LoadAnnotationsReactor(core::RunOperations* operations,
                                               const boost::asio::any_io_executor& io,
                                               std::string tenant, std::string request_id,
                                               v1::LoadAnnotationsRequest request)
    : cancellation_(std::make_shared<CallCancellation>(boost::asio::make_strand(io))),
      space_(io, 1) {
  // The load's coroutine runs on its own strand: the cancellation is emitted
  // there, never concurrently with a step of the load.
  boost::asio::co_spawn(
      RequestScopedExecutor<>(cancellation_->strand, std::move(request_id)),
      operations->LoadAnnotations(
          std::move(tenant), std::move(request),
          [this](v1::LoadAnnotationsResponse m) { return Push(std::move(m)); }),
      boost::asio::bind_cancellation_slot(
          cancellation_->signal.slot(), [this, cancellation = cancellation_](
                                            const std::exception_ptr& error, absl::Status status) {
            cancellation->done = true;  // on the strand
            if (error) {
              status = cancellation->emitted ? absl::CancelledError("the client stopped the load")
                                             : absl::InternalError("the load stopped unexpectedly");
            }
            Complete(status);
          }));
}

boost::asio::awaitable<absl::Status> LoadAnnotationsReactor::Push(
    v1::LoadAnnotationsResponse message) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) co_return absl::CancelledError("the client stopped the load");
      if (queue_.size() < kQueueCapacity) {
        queue_.push_back(std::move(message));
        break;
      }
    }
    // Not bound to the call's cancellation: CancelLoad wakes it itself.
    co_await space_.async_receive(boost::asio::bind_cancellation_slot(
        boost::asio::cancellation_slot(), boost::asio::as_tuple(boost::asio::use_awaitable)));
  }
  Pump();
  co_return absl::OkStatus();
}

void LoadAnnotationsReactor::Complete(const absl::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    producer_done_ = true;
    final_status_ = ToGrpcStatus(status);
  }
  Pump();
}

void LoadAnnotationsReactor::Pump() {
  bool write = false;
  bool finish = false;
  grpc::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || finished_) return;
    if (!queue_.empty() && !cancelled_) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      write = true;
    } else if (producer_done_) {
      finished_ = true;
      finish = true;
      status = cancelled_ ? grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped the load")
                          : final_status_;
    }
  }
  if (write) {
    (void)space_.try_send(boost::system::error_code());
    StartWrite(&current_);
  }
  if (finish) Finish(status);
}

void LoadAnnotationsReactor::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
  }
  if (!ok) CancelLoad();
  Pump();
}

void LoadAnnotationsReactor::OnCancel() {
  CancelLoad();
  Pump();
}

void LoadAnnotationsReactor::CancelLoad() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
  }
  (void)space_.try_send(boost::system::error_code());
  CallCancellation::Cancel(cancellation_);
}

}  // namespace labelport::api
