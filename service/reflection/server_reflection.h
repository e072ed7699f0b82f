// The gRPC server reflection service, in both of its versions:
// grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection
// (the same protocol under two package names; grpcurl, Postman and grpcui ask
// v1 first, older clients v1alpha). Both answer from one DescriptorCatalog,
// so they describe the same files, with their comments.
//
// Each request of the bidirectional stream gets one response, in order.
// Questions the catalog cannot answer (an unknown file, symbol or extension)
// get an error_response with NOT_FOUND and the stream goes on; a request
// with no question gets UNIMPLEMENTED the same way.
//
// Thread-safety: the services and Answer() only read the catalog, which must
// outlive them.
#ifndef LABELPORT_SERVICE_REFLECTION_SERVER_REFLECTION_H_
#define LABELPORT_SERVICE_REFLECTION_SERVER_REFLECTION_H_

#include <grpcpp/grpcpp.h>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "service/reflection/descriptor_catalog.h"

namespace labelport::reflection {

// The response to one reflection request.
void Answer(const DescriptorCatalog& catalog,
            const ::grpc::reflection::v1::ServerReflectionRequest& request,
            ::grpc::reflection::v1::ServerReflectionResponse* response);
void Answer(const DescriptorCatalog& catalog,
            const ::grpc::reflection::v1alpha::ServerReflectionRequest& request,
            ::grpc::reflection::v1alpha::ServerReflectionResponse* response);

// grpc.reflection.v1.ServerReflection.
class ServerReflectionV1 final : public ::grpc::reflection::v1::ServerReflection::CallbackService {
 public:
  explicit ServerReflectionV1(const DescriptorCatalog* catalog) : catalog_(catalog) {}

  ::grpc::ServerBidiReactor<::grpc::reflection::v1::ServerReflectionRequest,
                            ::grpc::reflection::v1::ServerReflectionResponse>*
  ServerReflectionInfo(::grpc::CallbackServerContext* context) override;

 private:
  const DescriptorCatalog* catalog_;
};

// grpc.reflection.v1alpha.ServerReflection.
class ServerReflectionV1Alpha final
    : public ::grpc::reflection::v1alpha::ServerReflection::CallbackService {
 public:
  explicit ServerReflectionV1Alpha(const DescriptorCatalog* catalog) : catalog_(catalog) {}

  ::grpc::ServerBidiReactor<::grpc::reflection::v1alpha::ServerReflectionRequest,
                            ::grpc::reflection::v1alpha::ServerReflectionResponse>*
  ServerReflectionInfo(::grpc::CallbackServerContext* context) override;

 private:
  const DescriptorCatalog* catalog_;
};

}  // namespace labelport::reflection

#endif  // LABELPORT_SERVICE_REFLECTION_SERVER_REFLECTION_H_
