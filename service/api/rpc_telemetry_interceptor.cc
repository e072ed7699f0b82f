#include "service/api/rpc_telemetry_interceptor.h"

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "labelport/v1/annotation_service.grpc.pb.h"
#include "service/common/log.h"

namespace labelport::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxRequestIdLength = 128;

// Full names of the methods this server serves: ours from the proto
// descriptor, and those of the services gRPC adds (health, reflection).
const absl::flat_hash_set<std::string>& ServedMethods() {
  static const auto* const methods = [] {
    auto* names = new absl::flat_hash_set<std::string>{
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    };
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            labelport::v1::AnnotationService::service_full_name());
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      names->insert(absl::StrCat("/", service->full_name(), "/", service->method(i)->name()));
    }
    return names;
  }();
  return *methods;
}

std::string MethodLabel(const char* method) {
  if (method == nullptr || !ServedMethods().contains(method)) return "unknown";
  return method;
}

bool IsAcceptableRequestId(const grpc::string_ref& id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// 128 random bits in hex: request ids must be unique, not secret.
std::string NewRequestId() {
  thread_local absl::BitGen bits;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(bits), absl::kZeroPad16),
                      absl::Hex(absl::Uniform<uint64_t>(bits), absl::kZeroPad16));
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

class RpcTelemetryInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcTelemetryInterceptor(grpc::experimental::ServerRpcInfo* info, common::Metrics* metrics)
      : method_(MethodLabel(info->method())), metrics_(metrics), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* received = methods->GetRecvInitialMetadata();
      auto it = received->find(kRequestIdMetadata);
      if (it != received->end() && IsAcceptableRequestId(it->second)) {
        request_id_.assign(it->second.data(), it->second.size());
      } else {
        if (it != received->end()) received->erase(it);
        request_id_ = NewRequestId();
        // The handlers read the id from the client metadata; the map holds
        // references, which stay valid as long as this interceptor (the call).
        received->emplace(grpc::string_ref(kRequestIdMetadata), grpc::string_ref(request_id_));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        !request_id_.empty()) {
      methods->GetSendInitialMetadata()->emplace(kRequestIdMetadata, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const absl::Duration latency = absl::Now() - start_;
      const char* code = CodeName(status.error_code());
      metrics_->RecordRpc(method_, code, latency);
      const bool server_fault = status.error_code() == grpc::StatusCode::INTERNAL ||
                                status.error_code() == grpc::StatusCode::UNKNOWN ||
                                status.error_code() == grpc::StatusCode::DATA_LOSS;
      // Probes call Health every few seconds: their lines only at debug.
      const bool probe = absl::StartsWith(method_, "/grpc.health.v1.Health/");
      common::Log(
          server_fault ? common::LogLevel::kWarning
          : probe      ? common::LogLevel::kDebug
                       : common::LogLevel::kInfo,
          absl::StrFormat("rpc %s %s %.1fms", method_, code, absl::ToDoubleMilliseconds(latency)),
          request_id_);
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  common::Metrics* metrics_;
  const absl::Time start_;
  std::string request_id_;
};

}  // namespace

grpc::experimental::Interceptor* RpcTelemetryInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcTelemetryInterceptor(info, metrics_);
}

std::string RequestIdOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kRequestIdMetadata);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace labelport::api
