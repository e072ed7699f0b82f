#include "service/reflection/descriptor_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "google/protobuf/descriptor.pb.h"
#include "labelport/descriptor_set.h"

namespace labelport::reflection {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

const std::vector<std::string> kServices = {
    "labelport.v1.AnnotationService", "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"};

std::unique_ptr<DescriptorCatalog> Embedded() {
  auto catalog = DescriptorCatalog::Create(proto::DescriptorSetBytes(), kServices);
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  return catalog.ok() ? *std::move(catalog) : nullptr;
}

std::vector<google::protobuf::FileDescriptorProto> Parse(
    const std::vector<const std::string*>& serialized) {
  std::vector<google::protobuf::FileDescriptorProto> files(serialized.size());
  for (size_t i = 0; i < serialized.size(); ++i)
    EXPECT_TRUE(files[i].ParseFromString(*serialized[i]));
  return files;
}

std::vector<std::string> Names(const std::vector<google::protobuf::FileDescriptorProto>& files) {
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.name());
  return names;
}

// The leading comment of field `field` of top-level message `message` in `file`.
std::string FieldComment(const google::protobuf::FileDescriptorProto& file,
                         const std::string& message, const std::string& field) {
  for (int m = 0; m < file.message_type_size(); ++m) {
    if (file.message_type(m).name() != message) continue;
    for (int f = 0; f < file.message_type(m).field_size(); ++f) {
      if (file.message_type(m).field(f).name() != field) continue;
      // Path of a field: message_type (4), index, field (2), index.
      for (const auto& location : file.source_code_info().location()) {
        if (location.path_size() == 4 && location.path(0) == 4 && location.path(1) == m &&
            location.path(2) == 2 && location.path(3) == f)
          return location.leading_comments();
      }
    }
  }
  return "";
}

TEST(DescriptorCatalogTest, ServesTheFileOfASymbolWithItsCommentsAndDependencies) {
  auto catalog = Embedded();
  ASSERT_NE(catalog, nullptr);
  auto files = catalog->FileContainingSymbol("labelport.v1.CreateRunHeader");
  ASSERT_TRUE(files.ok()) << files.status();
  const auto parsed = Parse(*files);
  ASSERT_FALSE(parsed.empty());
  EXPECT_EQ(parsed[0].name(), "labelport/v1/annotation_service.proto");
  EXPECT_THAT(FieldComment(parsed[0], "CreateRunHeader", "anno_key"),
              HasSubstr("Required: the run key"));
  const auto names = Names(parsed);
  EXPECT_THAT(names, Contains("labelport/v1/annotation_run.proto"));
  EXPECT_THAT(names, Contains("google/api/field_behavior.proto"));
  EXPECT_THAT(names, Contains("google/protobuf/descriptor.proto"));
  EXPECT_EQ(absl::flat_hash_set<std::string>(names.begin(), names.end()).size(), names.size())
      << "each dependency once";
}

TEST(DescriptorCatalogTest, FindsMethodsFieldsAndTheHealthService) {
  auto catalog = Embedded();
  ASSERT_NE(catalog, nullptr);
  for (const char* symbol :
       {"labelport.v1.AnnotationService.GetRun", "labelport.v1.CreateRunHeader.anno_key",
        "labelport.v1.ErrorReason", "labelport.v1.ERROR_REASON_RUN_NOT_FOUND"}) {
    auto files = catalog->FileContainingSymbol(symbol);
    ASSERT_TRUE(files.ok()) << symbol << ": " << files.status();
  }
  auto health = catalog->FileContainingSymbol("grpc.health.v1.Health");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(Parse(*health)[0].name(), "grpc/health/v1/health.proto");
  auto details = catalog->FileByName("google/rpc/error_details.proto");
  ASSERT_TRUE(details.ok()) << details.status();
}

TEST(DescriptorCatalogTest, UnknownNamesAreNotFoundAndNamed) {
  auto catalog = Embedded();
  ASSERT_NE(catalog, nullptr);
  auto symbol = catalog->FileContainingSymbol("labelport.v1.NoSuchThing");
  EXPECT_EQ(symbol.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(symbol.status().message(), HasSubstr("labelport.v1.NoSuchThing"));
  auto file = catalog->FileByName("nope.proto");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("nope.proto"));
  auto extension = catalog->FileContainingExtension("google.protobuf.FieldOptions", 1);
  EXPECT_EQ(extension.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog->ExtensionNumbers("no.Such").status().code(), absl::StatusCode::kNotFound);
}

TEST(DescriptorCatalogTest, AnswersExtensionQuestions) {
  auto catalog = Embedded();
  ASSERT_NE(catalog, nullptr);
  // google.api.field_behavior is extension 1052 of FieldOptions.
  auto files = catalog->FileContainingExtension("google.protobuf.FieldOptions", 1052);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(Parse(*files)[0].name(), "google/api/field_behavior.proto");
  // google.api.http is extension 72295728 of MethodOptions.
  auto numbers = catalog->ExtensionNumbers("google.protobuf.MethodOptions");
  ASSERT_TRUE(numbers.ok()) << numbers.status();
  EXPECT_THAT(*numbers, Contains(72295728));
}

TEST(DescriptorCatalogTest, RefusesBadInput) {
  EXPECT_EQ(DescriptorCatalog::Create("\xff\xff not a descriptor set", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto unknown_service = DescriptorCatalog::Create(proto::DescriptorSetBytes(), {"no.Service"});
  EXPECT_EQ(unknown_service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown_service.status().message(), HasSubstr("no.Service"));
  // A file whose imports are missing does not build.
  google::protobuf::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromString(std::string(proto::DescriptorSetBytes())));
  google::protobuf::FileDescriptorSet alone;
  for (const auto& file : set.file()) {
    if (file.name() == "labelport/v1/annotation_service.proto") *alone.add_file() = file;
  }
  auto missing_imports = DescriptorCatalog::Create(alone.SerializeAsString(), {});
  EXPECT_EQ(missing_imports.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing_imports.status().message(),
              HasSubstr("labelport/v1/annotation_service.proto"));
}

}  // namespace
}  // namespace labelport::reflection
