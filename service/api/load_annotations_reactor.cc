#include "service/api/load_annotations_reactor.h"

#include <boost/asio/co_spawn.hpp>
#include <utility>

#include "service/api/request_scoped_executor.h"
#include "service/api/status_conversion.h"

namespace labelport::api {

namespace v1 = labelport::v1;

LoadAnnotationsReactor::LoadAnnotationsReactor(core::RunOperations* operations,
                                               boost::asio::any_io_executor io, std::string tenant,
                                               std::string request_id,
                                               v1::LoadAnnotationsRequest request) {
  boost::asio::co_spawn(RequestScopedExecutor<>(std::move(io), std::move(request_id)),
                        operations->LoadAnnotations(
                            std::move(tenant), std::move(request),
                            [this](v1::LoadAnnotationsResponse m) { return Push(std::move(m)); }),
                        [this](std::exception_ptr error, absl::Status status) {
                          if (error) status = absl::InternalError("the load stopped unexpectedly");
                          Complete(status);
                        });
}

absl::Status LoadAnnotationsReactor::Push(v1::LoadAnnotationsResponse message) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < kQueueCapacity || cancelled_; });
    if (cancelled_) return absl::CancelledError("the client stopped the load");
    queue_.push_back(std::move(message));
  }
  Pump();
  return absl::OkStatus();
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
      space_.notify_all();
    } else if (producer_done_) {
      finished_ = true;
      finish = true;
      status = cancelled_ ? grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped the load")
                          : final_status_;
    }
  }
  if (write) StartWrite(&current_);
  if (finish) Finish(status);
}

void LoadAnnotationsReactor::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
    space_.notify_all();
  }
  Pump();
}

void LoadAnnotationsReactor::OnCancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    space_.notify_all();
  }
  Pump();
}

}  // namespace labelport::api
