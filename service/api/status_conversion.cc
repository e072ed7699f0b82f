#include "service/api/status_conversion.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "service/common/errors.h"

namespace labelport::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  // The message travels three times (grpc-message, the details' message and
  // the field violation), in trailers a client accepts only up to a few KiB.
  const std::string message = common::Truncated(status.message(), kMaxErrorMessageBytes);
  auto field = common::ErrorField(status);
  if (field) *field = common::Truncated(*field, kMaxErrorFieldBytes);
  const auto reason = common::ErrorReason(status);
  if (!field && !reason) return grpc::Status(code, message);

  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  if (field) {
    google::rpc::BadRequest bad_request;
    auto* violation = bad_request.add_field_violations();
    violation->set_field(*field);
    violation->set_description(message);
    details.add_details()->PackFrom(bad_request);
  }
  if (reason) {
    google::rpc::ErrorInfo info;
    info.set_reason(*reason);
    info.set_domain(kErrorDomain);
    if (field) (*info.mutable_metadata())["field"] = *field;
    details.add_details()->PackFrom(info);
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace labelport::api
