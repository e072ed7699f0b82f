#include "service/reflection/server_reflection.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace labelport::reflection {
namespace {

// v1 and v1alpha messages have the same fields and accessors, so one
// template serves both.
template <typename Request, typename Response>
void AnswerRequest(const DescriptorCatalog& catalog, const Request& request, Response* response) {
  response->Clear();
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  const auto fail = [response](const absl::Status& status) {
    auto* error = response->mutable_error_response();
    error->set_error_code(static_cast<int32_t>(status.code()));
    error->set_error_message(std::string(status.message()));
  };
  absl::StatusOr<std::vector<const std::string*>> files;
  switch (request.message_request_case()) {
    case Request::kFileByFilename:
      files = catalog.FileByName(request.file_by_filename());
      break;
    case Request::kFileContainingSymbol:
      files = catalog.FileContainingSymbol(request.file_containing_symbol());
      break;
    case Request::kFileContainingExtension:
      files =
          catalog.FileContainingExtension(request.file_containing_extension().containing_type(),
                                          request.file_containing_extension().extension_number());
      break;
    case Request::kAllExtensionNumbersOfType: {
      auto numbers = catalog.ExtensionNumbers(request.all_extension_numbers_of_type());
      if (!numbers.ok()) return fail(numbers.status());
      auto* out = response->mutable_all_extension_numbers_response();
      out->set_base_type_name(request.all_extension_numbers_of_type());
      for (int32_t number : *numbers) out->add_extension_number(number);
      return;
    }
    case Request::kListServices: {
      auto* out = response->mutable_list_services_response();
      for (const std::string& name : catalog.services()) out->add_service()->set_name(name);
      return;
    }
    default:
      return fail(
          absl::UnimplementedError("the reflection request asks nothing this server knows"));
  }
  if (!files.ok()) return fail(files.status());
  auto* out = response->mutable_file_descriptor_response();
  for (const std::string* file : *files) out->add_file_descriptor_proto(*file);
}

// Reads a request, writes its answer, and again, until the client half-closes.
template <typename Request, typename Response>
class ReflectionReactor final : public ::grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit ReflectionReactor(const DescriptorCatalog* catalog) : catalog_(catalog) {
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(::grpc::Status::OK);
      return;
    }
    // The catalog is in memory: answering never blocks the gRPC thread.
    AnswerRequest(*catalog_, request_, &response_);
    this->StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(::grpc::Status(::grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const DescriptorCatalog* catalog_;
  Request request_;
  Response response_;
};

}  // namespace

void Answer(const DescriptorCatalog& catalog,
            const ::grpc::reflection::v1::ServerReflectionRequest& request,
            ::grpc::reflection::v1::ServerReflectionResponse* response) {
  AnswerRequest(catalog, request, response);
}

void Answer(const DescriptorCatalog& catalog,
            const ::grpc::reflection::v1alpha::ServerReflectionRequest& request,
            ::grpc::reflection::v1alpha::ServerReflectionResponse* response) {
  AnswerRequest(catalog, request, response);
}

template <typename Service, typename Request, typename Response>
::grpc::ServerBidiReactor<Request, Response>*
ServerReflection<Service, Request, Response>::ServerReflectionInfo(
    ::grpc::CallbackServerContext* /*context*/) {
  return new ReflectionReactor<Request, Response>(catalog_);
}

template class ServerReflection<::grpc::reflection::v1::ServerReflection::CallbackService,
                                ::grpc::reflection::v1::ServerReflectionRequest,
                                ::grpc::reflection::v1::ServerReflectionResponse>;
template class ServerReflection<::grpc::reflection::v1alpha::ServerReflection::CallbackService,
                                ::grpc::reflection::v1alpha::ServerReflectionRequest,
                                ::grpc::reflection::v1alpha::ServerReflectionResponse>;

}  // namespace labelport::reflection
