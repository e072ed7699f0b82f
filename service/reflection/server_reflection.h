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

// The ServerReflection service of one protocol version: `Service` is that
// version's generated CallbackService, `Request` and `Response` its
// messages. Each call answers its requests from the catalog, which must
// outlive the service.
template <typename Service, typename Request, typename Response>
class ServerReflection final : public Service {
 public:
  explicit ServerReflection(const DescriptorCatalog* catalog) : catalog_(catalog) {}

  ::grpc::ServerBidiReactor<Request, Response>* ServerReflectionInfo(
      ::grpc::CallbackServerContext* context) override;

 private:
  const DescriptorCatalog* catalog_;
};

// grpc.reflection.v1.ServerReflection.
using ServerReflectionV1 =
    ServerReflection<::grpc::reflection::v1::ServerReflection::CallbackService,
                     ::grpc::reflection::v1::ServerReflectionRequest,
                     ::grpc::reflection::v1::ServerReflectionResponse>;
// grpc.reflection.v1alpha.ServerReflection.
using ServerReflectionV1Alpha =
    ServerReflection<::grpc::reflection::v1alpha::ServerReflection::CallbackService,
                     ::grpc::reflection::v1alpha::ServerReflectionRequest,
                     ::grpc::reflection::v1alpha::ServerReflectionResponse>;

}  // namespace labelport::reflection

#endif  // LABELPORT_SERVICE_REFLECTION_SERVER_REFLECTION_H_
