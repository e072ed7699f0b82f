#include "service/reflection/server_reflection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/protobuf/descriptor.pb.h"
#include "labelport/descriptor_set.h"

namespace labelport::reflection {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<DescriptorCatalog> Catalog() {
  auto catalog = DescriptorCatalog::Create(
      proto::DescriptorSetBytes(),
      {"labelport.v1.AnnotationService", "grpc.health.v1.Health",
       "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"});
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *std::move(catalog) : nullptr;
}

TEST(ServerReflectionTest, V1ListsTheServices) {
  auto catalog = Catalog();
  ASSERT_NE(catalog, nullptr);
  ::grpc::reflection::v1::ServerReflectionRequest request;
  request.set_host("localhost:1");
  request.set_list_services("");
  ::grpc::reflection::v1::ServerReflectionResponse response;
  Answer(*catalog, request, &response);
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service())
    names.push_back(service.name());
  EXPECT_THAT(names, ElementsAre("labelport.v1.AnnotationService", "grpc.health.v1.Health",
                                 "grpc.reflection.v1.ServerReflection",
                                 "grpc.reflection.v1alpha.ServerReflection"));
  EXPECT_EQ(response.valid_host(), "localhost:1");
  EXPECT_TRUE(response.original_request().has_list_services());
}

TEST(ServerReflectionTest, V1AlphaServesFilesByName) {
  auto catalog = Catalog();
  ASSERT_NE(catalog, nullptr);
  ::grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_file_by_filename("grpc/health/v1/health.proto");
  ::grpc::reflection::v1alpha::ServerReflectionResponse response;
  Answer(*catalog, request, &response);
  ASSERT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "grpc/health/v1/health.proto");
  EXPECT_EQ(file.service(0).name(), "Health");
}

TEST(ServerReflectionTest, UnknownSymbolIsAnErrorResponse) {
  auto catalog = Catalog();
  ASSERT_NE(catalog, nullptr);
  ::grpc::reflection::v1::ServerReflectionRequest request;
  request.set_file_containing_symbol("labelport.v1.Nope");
  ::grpc::reflection::v1::ServerReflectionResponse response;
  Answer(*catalog, request, &response);
  ASSERT_TRUE(response.has_error_response());
  EXPECT_EQ(response.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(response.error_response().error_message(), ::testing::HasSubstr("labelport.v1.Nope"));
  EXPECT_EQ(response.original_request().file_containing_symbol(), "labelport.v1.Nope");

  ::grpc::reflection::v1::ServerReflectionRequest empty;
  Answer(*catalog, empty, &response);
  EXPECT_EQ(response.error_response().error_code(),
            static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
}

TEST(ServerReflectionTest, AllExtensionNumbers) {
  auto catalog = Catalog();
  ASSERT_NE(catalog, nullptr);
  ::grpc::reflection::v1::ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type("google.protobuf.FieldOptions");
  ::grpc::reflection::v1::ServerReflectionResponse response;
  Answer(*catalog, request, &response);
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(),
            "google.protobuf.FieldOptions");
  EXPECT_THAT(response.all_extension_numbers_response().extension_number(),
              ::testing::Contains(1052));
}

}  // namespace
}  // namespace labelport::reflection
