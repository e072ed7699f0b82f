// RpcTelemetryInterceptorFactory: a gRPC server interceptor that, for every
// call (labelport's, health and reflection alike):
//   * settles the call's request id: the client's `x-request-id` metadata
//     when it is 1-128 printable ASCII characters without spaces, otherwise a
//     fresh random 32-hex-digit id. The id is made visible to the handlers
//     (RequestIdOf) and sent back in the response's initial metadata as
//     `x-request-id`;
//   * reports the finished call to common::Metrics::RecordRpc (full method,
//     status code name, time from arrival to status). Methods the server does
//     not serve (labelport.v1.AnnotationService, grpc.health.v1.Health,
//     server reflection) are reported as "unknown", so that clients cannot
//     grow the label set;
//   * writes one access log line per call ("rpc <method> <code> <ms>ms",
//     at info, warning for INTERNAL/UNKNOWN/DATA_LOSS, debug for health
//     checks) carrying the request id.
// `metrics` must outlive the server. Thread-safe.
#ifndef LABELPORT_SERVICE_API_RPC_TELEMETRY_INTERCEPTOR_H_
#define LABELPORT_SERVICE_API_RPC_TELEMETRY_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>

#include "service/common/metrics.h"

namespace labelport::api {

inline constexpr char kRequestIdMetadata[] = "x-request-id";

class RpcTelemetryInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcTelemetryInterceptorFactory(common::Metrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  common::Metrics* metrics_;
};

// The request id the interceptor settled for this call ("" when the server
// runs without the interceptor).
std::string RequestIdOf(const grpc::ServerContextBase& context);

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_RPC_TELEMETRY_INTERCEPTOR_H_
