// The one place where absl::Status becomes grpc::Status.
//
// The code and message are kept; a message longer than kMaxErrorMessageBytes
// (or a field path longer than kMaxErrorFieldBytes) is cut there and marked
// "…(N bytes)", so that no error can exceed the client's metadata limit and
// turn into RESOURCE_EXHAUSTED on its way. The field and reason payloads of
// service/common/errors.h become google.rpc.BadRequest and google.rpc.ErrorInfo
// (domain "labelport.dev") inside the google.rpc.Status details, which every
// gRPC client library can read (grpcio-status, Go's status.Details()).
#ifndef LABELPORT_SERVICE_API_STATUS_CONVERSION_H_
#define LABELPORT_SERVICE_API_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include <cstddef>

#include "absl/status/status.h"

namespace labelport::api {

inline constexpr char kErrorDomain[] = "labelport.dev";
inline constexpr size_t kMaxErrorMessageBytes = 1024;
inline constexpr size_t kMaxErrorFieldBytes = 256;

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_STATUS_CONVERSION_H_
