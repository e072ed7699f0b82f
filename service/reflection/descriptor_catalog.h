// DescriptorCatalog: the proto files a server describes through reflection.
//
// Built once from a serialized FileDescriptorSet (imports before importers,
// as `protoc --include_imports` writes it), it answers the questions of the
// gRPC server reflection protocol (v1 and v1alpha alike): the files that
// define a symbol or an extension, with their dependencies, the extension
// numbers of a message, and the names of the served services. Files are
// returned as the serialized FileDescriptorProtos of the set, so the source
// info (comments) they carry reaches the client unchanged.
//
// Thread-safety: immutable after Create(); every method may be called from
// any thread.
#ifndef LABELPORT_SERVICE_REFLECTION_DESCRIPTOR_CATALOG_H_
#define LABELPORT_SERVICE_REFLECTION_DESCRIPTOR_CATALOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace labelport::reflection {

class DescriptorCatalog {
 public:
  // Builds the catalog from a serialized FileDescriptorSet (a std::string_view,
  // as the embedded set of labelport/descriptor_set.h is). INVALID_ARGUMENT
  // when `descriptor_set` does not parse,
  // a file fails to build (e.g. an import missing or listed after its
  // importer), or a name in `services` is not a service of the set.
  static absl::StatusOr<std::unique_ptr<DescriptorCatalog>> Create(
      std::string_view descriptor_set, std::vector<std::string> services);

  DescriptorCatalog(const DescriptorCatalog&) = delete;
  DescriptorCatalog& operator=(const DescriptorCatalog&) = delete;

  // The served services, as given to Create().
  const std::vector<std::string>& services() const { return services_; }

  // The serialized FileDescriptorProto of `file_name`, then those of its
  // transitive dependencies (each once). NOT_FOUND naming the file when the
  // set has no such file.
  absl::StatusOr<std::vector<const std::string*>> FileByName(absl::string_view file_name) const;
  // The same for the file that defines `symbol` (a fully qualified message,
  // enum, service, method, field or enum value name; no leading dot).
  // NOT_FOUND naming the symbol.
  absl::StatusOr<std::vector<const std::string*>> FileContainingSymbol(
      absl::string_view symbol) const;
  // The same for the file that defines extension `number` of message
  // `containing_type`. NOT_FOUND naming the type or the number.
  absl::StatusOr<std::vector<const std::string*>> FileContainingExtension(
      absl::string_view containing_type, int32_t number) const;
  // The extension numbers of message `type` defined in the set, ascending.
  // NOT_FOUND naming the type when it is not a message of the set.
  absl::StatusOr<std::vector<int32_t>> ExtensionNumbers(absl::string_view type) const;

 private:
  DescriptorCatalog() = default;

  std::vector<const std::string*> WithDependencies(
      const google::protobuf::FileDescriptor* file) const;
  // WithDependencies(file), where `file` was looked up for `name` (a
  // `kind`: "file", "symbol"); NOT_FOUND "<kind> '<name>' is not served"
  // when the lookup found none (null).
  absl::StatusOr<std::vector<const std::string*>> ServedWithDependencies(
      const google::protobuf::FileDescriptor* file, absl::string_view kind,
      absl::string_view name) const;
  // The message type `type` of the set; NOT_FOUND "message '<type>' is not
  // served" when there is none.
  absl::StatusOr<const google::protobuf::Descriptor*> MessageType(absl::string_view type) const;

  google::protobuf::DescriptorPool pool_;
  // File name -> its serialized FileDescriptorProto, as found in the set.
  absl::flat_hash_map<std::string, std::string> serialized_;
  std::vector<std::string> services_;
};

}  // namespace labelport::reflection

#endif  // LABELPORT_SERVICE_REFLECTION_DESCRIPTOR_CATALOG_H_
