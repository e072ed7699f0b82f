#include "service/reflection/descriptor_catalog.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"

namespace labelport::reflection {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

// Keeps the first error of a file that does not build (protobuf would log it).
class FirstError : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message* /*descriptor*/, ErrorLocation /*location*/,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(filename, ": ", element_name, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DescriptorCatalog>> DescriptorCatalog::Create(
    std::string_view descriptor_set, std::vector<std::string> services) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(descriptor_set.data(), static_cast<int>(descriptor_set.size())))
    return absl::InvalidArgumentError("the reflection descriptor set does not parse");
  auto catalog = std::unique_ptr<DescriptorCatalog>(new DescriptorCatalog());
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    FirstError errors;
    if (catalog->pool_.BuildFileCollectingErrors(file, &errors) == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("file '", file.name(),
                                                     "' of the reflection descriptor set does "
                                                     "not build: ",
                                                     errors.error()));
    catalog->serialized_[file.name()] = file.SerializeAsString();
  }
  for (const std::string& service : services) {
    if (catalog->pool_.FindServiceByName(service) == nullptr)
      return absl::InvalidArgumentError(
          absl::StrCat("service '", service, "' is not in the reflection descriptor set"));
  }
  catalog->services_ = std::move(services);
  return catalog;
}

std::vector<const std::string*> DescriptorCatalog::WithDependencies(
    const FileDescriptor* file) const {
  std::vector<const std::string*> files;
  absl::flat_hash_set<const FileDescriptor*> seen = {file};
  std::vector<const FileDescriptor*> pending = {file};
  while (!pending.empty()) {
    const FileDescriptor* next = pending.back();
    pending.pop_back();
    // Every built file came from the set, so it has its serialized form.
    files.push_back(&serialized_.at(next->name()));
    for (int i = 0; i < next->dependency_count(); ++i) {
      if (seen.insert(next->dependency(i)).second) pending.push_back(next->dependency(i));
    }
  }
  return files;
}

absl::StatusOr<std::vector<const std::string*>> DescriptorCatalog::ServedWithDependencies(
    const FileDescriptor* file, absl::string_view kind, absl::string_view name) const {
  if (file == nullptr)
    return absl::NotFoundError(absl::StrCat(kind, " '", name, "' is not served"));
  return WithDependencies(file);
}

absl::StatusOr<const Descriptor*> DescriptorCatalog::MessageType(absl::string_view type) const {
  const Descriptor* message = pool_.FindMessageTypeByName(std::string(type));
  if (message == nullptr)
    return absl::NotFoundError(absl::StrCat("message '", type, "' is not served"));
  return message;
}

absl::StatusOr<std::vector<const std::string*>> DescriptorCatalog::FileByName(
    absl::string_view file_name) const {
  return ServedWithDependencies(pool_.FindFileByName(std::string(file_name)), "file", file_name);
}

absl::StatusOr<std::vector<const std::string*>> DescriptorCatalog::FileContainingSymbol(
    absl::string_view symbol) const {
  return ServedWithDependencies(pool_.FindFileContainingSymbol(std::string(symbol)), "symbol",
                                symbol);
}

absl::StatusOr<std::vector<const std::string*>> DescriptorCatalog::FileContainingExtension(
    absl::string_view containing_type, int32_t number) const {
  absl::StatusOr<const Descriptor*> type = MessageType(containing_type);
  if (!type.ok()) return type.status();
  const FieldDescriptor* extension = pool_.FindExtensionByNumber(*type, number);
  if (extension == nullptr)
    return absl::NotFoundError(
        absl::StrCat("no extension ", number, " of '", containing_type, "' is served"));
  return WithDependencies(extension->file());
}

absl::StatusOr<std::vector<int32_t>> DescriptorCatalog::ExtensionNumbers(
    absl::string_view type) const {
  absl::StatusOr<const Descriptor*> message = MessageType(type);
  if (!message.ok()) return message.status();
  std::vector<const FieldDescriptor*> extensions;
  pool_.FindAllExtensions(*message, &extensions);
  std::vector<int32_t> numbers;
  numbers.reserve(extensions.size());
  for (const FieldDescriptor* extension : extensions) numbers.push_back(extension->number());
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace labelport::reflection
