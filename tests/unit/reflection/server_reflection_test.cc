#include "service/reflection/server_reflection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/protobuf/descriptor.pb.h"
#include "labelport/descriptor_set.h"

namespace labelport::reflection {
namespace {

namespace rv1 = ::grpc::reflection::v1;
namespace rv1alpha = ::grpc::reflection::v1alpha;
using ::testing::ElementsAre;

std::unique_ptr<DescriptorCatalog> Catalog() {
  auto catalog = DescriptorCatalog::Create(
      proto::DescriptorSetBytes(),
      {"labelport.v1.AnnotationService", "grpc.health.v1.Health",
       "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"});
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *std::move(catalog) : nullptr;
}

class ServerReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = Catalog();
    ASSERT_NE(catalog_, nullptr);
  }

  // The catalog's answer to `request` (a v1 or v1alpha request).
  template <typename Response, typename Request>
  Response Ask(const Request& request) {
    Response response;
    Answer(*catalog_, request, &response);
    return response;
  }

  std::unique_ptr<DescriptorCatalog> catalog_;
};

TEST_F(ServerReflectionTest, V1ListsTheServices) {
  rv1::ServerReflectionRequest request;
  request.set_host("localhost:1");
  request.set_list_services("");
  auto response = Ask<rv1::ServerReflectionResponse>(request);
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service())
    names.push_back(service.name());
  EXPECT_THAT(names, ElementsAre("labelport.v1.AnnotationService", "grpc.health.v1.Health",
                                 "grpc.reflection.v1.ServerReflection",
                                 "grpc.reflection.v1alpha.ServerReflection"));
  EXPECT_EQ(response.valid_host(), "localhost:1");
  EXPECT_TRUE(response.original_request().has_list_services());
}

TEST_F(ServerReflectionTest, V1AlphaServesFilesByName) {
  rv1alpha::ServerReflectionRequest request;
  request.set_file_by_filename("grpc/health/v1/health.proto");
  auto response = Ask<rv1alpha::ServerReflectionResponse>(request);
  ASSERT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "grpc/health/v1/health.proto");
  EXPECT_EQ(file.service(0).name(), "Health");
}

TEST_F(ServerReflectionTest, UnknownSymbolIsAnErrorResponse) {
  rv1::ServerReflectionRequest request;
  request.set_file_containing_symbol("labelport.v1.Nope");
  auto response = Ask<rv1::ServerReflectionResponse>(request);
  ASSERT_TRUE(response.has_error_response());
  EXPECT_EQ(response.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(response.error_response().error_message(), ::testing::HasSubstr("labelport.v1.Nope"));
  EXPECT_EQ(response.original_request().file_containing_symbol(), "labelport.v1.Nope");

  response = Ask<rv1::ServerReflectionResponse>(rv1::ServerReflectionRequest());
  EXPECT_EQ(response.error_response().error_code(),
            static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
}

TEST_F(ServerReflectionTest, AllExtensionNumbers) {
  rv1::ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type("google.protobuf.FieldOptions");
  auto response = Ask<rv1::ServerReflectionResponse>(request);
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(),
            "google.protobuf.FieldOptions");
  EXPECT_THAT(response.all_extension_numbers_response().extension_number(),
              ::testing::Contains(1052));
}

}  // namespace
}  // namespace labelport::reflection
