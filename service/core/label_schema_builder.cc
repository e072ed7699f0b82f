#include "service/core/label_schema_builder.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/core/field_values.h"
#include "service/core/label_types.h"
#include "service/core/limits.h"

namespace labelport::core {
namespace {

using common::Excerpt;
using common::InvalidArgument;
using labelport::v1::AttributeSelection;
using labelport::v1::AttributeSpec;
using labelport::v1::AttributeSpecs;
using labelport::v1::ClassList;
using labelport::v1::CreateRunHeader;
using labelport::v1::ExistingField;
using labelport::v1::FieldSchema;
using labelport::v1::Sample;

constexpr char kBackend[] = "darwin";

// Attribute names that would shadow declared label fields.
bool IsReservedAttributeName(absl::string_view name) {
  static const auto* const kReserved = new std::set<std::string, std::less<>>{
      "id",     "_id",        "label", "bounding_box", "mask",   "mask_path",  "points",   "closed",
      "filled", "confidence", "index", "tags",         "logits", "attributes", "keyframe", "_cls"};
  return kReserved->count(name) > 0;
}

// The per-field inputs after applying FiftyOne's input forms (§2.1).
struct FieldInput {
  FieldSchema schema;
  // True when allow_* values came from defaults (shorthand or globals) rather
  // than from the field's own schema: non-applicable ones are then dropped
  // silently instead of being rejected.
  bool allow_from_shorthand = false;
};

// The Python reprs of `values`, comma-separated; at most the first 32.
std::string ValuesRepr(
    const google::protobuf::RepeatedPtrField<labelport::v1::AttributeValue>& values) {
  constexpr int kShown = 32;
  std::string out;
  for (int i = 0; i < values.size() && i < kShown; ++i)
    absl::StrAppend(&out, i == 0 ? "" : ", ", PyRepr(values[i]));
  if (values.size() > kShown) absl::StrAppend(&out, ", ...(", values.size(), " values)");
  return out;
}

std::string SpecRepr(const AttributeSpec& spec) {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat("'name': '", Excerpt(spec.name()), "'"));
  if (!spec.type().empty()) parts.push_back(absl::StrCat("'type': '", Excerpt(spec.type()), "'"));
  if (spec.values_size() > 0)
    parts.push_back(absl::StrCat("'values': [", ValuesRepr(spec.values()), "]"));
  if (spec.has_default_value())
    parts.push_back(absl::StrCat("'default': ", PyRepr(spec.default_value())));
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

std::string ClassGroupRepr(const labelport::v1::ClassGroup& group) {
  std::vector<std::string> parts;
  if (group.has_classes()) {
    parts.push_back(absl::StrCat(
        "'classes': ", PyList({group.classes().names().begin(), group.classes().names().end()})));
  }
  if (group.has_attributes()) parts.push_back("'attributes': {...}");
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

// What existing labels tell about a field: observed classes and attributes.
struct Observed {
  std::set<std::string> classes;
  // Attribute names in order of first appearance (non-null values only).
  std::vector<std::string> attribute_names;
  absl::flat_hash_set<std::string> attribute_seen;
  bool any_keyframe = false;

  void AddLabel(const LabelView& label, bool trackable) {
    if (!label.label.empty()) classes.insert(std::string(label.label));
    if (label.keyframe.value_or(false)) any_keyframe = true;
    if (label.attributes == nullptr) return;
    // Map iteration order is unspecified; sort per label for determinism.
    std::vector<std::string> names;
    for (const auto& [name, value] : *label.attributes) {
      if (value.kind_case() == labelport::v1::AttributeValue::KIND_NOT_SET ||
          value.has_null_value())
        continue;
      if (trackable && name == "keyframe") continue;
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (auto& n : names) {
      if (attribute_seen.insert(n).second) attribute_names.push_back(n);
    }
  }
};

Observed ObserveField(const std::vector<Sample>& samples, absl::string_view field, bool trackable,
                      const std::optional<std::set<std::string>>& only_classes) {
  Observed observed;
  auto add = [&](const labelport::v1::FieldValue& value) {
    for (const auto& label : LabelsOf(value)) {
      if (only_classes && only_classes->count(std::string(label.label)) == 0) continue;
      observed.AddLabel(label, trackable);
    }
  };
  for (const auto& sample : samples) {
    for (const auto& sf : sample.fields()) {
      if (sf.field() != field) continue;
      add(sf.value());
      for (const auto& frame : sf.frames()) add(frame.value());
    }
  }
  return observed;
}

// The lengths of an attribute spec's strings and lists (its name, type,
// granularity and values), before any message quotes them.
absl::Status CheckSpecBounds(const AttributeSpec& spec, const std::string& spec_path) {
  auto too_long = [&](absl::string_view sub, absl::string_view what, absl::string_view value) {
    return InvalidArgument(absl::StrCat(spec_path, sub), "ATTRIBUTE_SPEC_INVALID",
                           absl::StrFormat("Attribute %s '%s' is longer than %d bytes", what,
                                           Excerpt(value), kMaxNameLength));
  };
  if (spec.name().size() > kMaxNameLength) return too_long(".name", "name", spec.name());
  if (spec.type().size() > kMaxNameLength) return too_long(".type", "type", spec.type());
  if (spec.granularity().size() > kMaxNameLength)
    return too_long(".granularity", "granularity", spec.granularity());
  if (static_cast<size_t>(spec.values_size()) > kMaxValuesPerAttribute)
    return InvalidArgument(
        absl::StrCat(spec_path, ".values"), "ATTRIBUTE_SPEC_INVALID",
        absl::StrFormat("Attribute '%s' has %d values; at most %d are allowed", spec.name(),
                        spec.values_size(), kMaxValuesPerAttribute));
  for (int i = 0; i < spec.values_size(); ++i) {
    const std::string problem = AttributeValueProblem(spec.values(i));
    if (!problem.empty())
      return InvalidArgument(
          absl::StrCat(spec_path, ".values[", i, "]"), "ATTRIBUTE_SPEC_INVALID",
          absl::StrFormat("Attribute '%s' has a value with %s", spec.name(), problem));
  }
  if (spec.has_default_value()) {
    const std::string problem = AttributeValueProblem(spec.default_value());
    if (!problem.empty())
      return InvalidArgument(
          absl::StrCat(spec_path, ".default_value"), "ATTRIBUTE_SPEC_INVALID",
          absl::StrFormat("Attribute '%s' has a default value with %s", spec.name(), problem));
  }
  return absl::OkStatus();
}

// Normalises an attribute selection into specs (§2.6).
absl::StatusOr<AttributeSpecs> NormalizeAttributes(const AttributeSelection& selection,
                                                   bool existing, const Observed& observed,
                                                   const std::string& path) {
  AttributeSpecs out;
  auto add_text = [&](const std::string& name) {
    AttributeSpec* spec = out.add_specs();
    spec->set_name(name);
    spec->set_type("text");
  };
  switch (selection.kind_case()) {
    case AttributeSelection::KIND_NOT_SET:
      if (existing)
        for (const auto& n : observed.attribute_names) add_text(n);
      break;
    case AttributeSelection::kInfer:
      if (selection.infer() && existing)
        for (const auto& n : observed.attribute_names) add_text(n);
      break;
    case AttributeSelection::kNames:
      if (static_cast<size_t>(selection.names().names_size()) > kMaxAttributesPerField)
        return InvalidArgument(
            absl::StrCat(path, ".names"), "TOO_MANY_ATTRIBUTES",
            absl::StrFormat("%d attributes are given; at most %d are allowed per field",
                            selection.names().names_size(), kMaxAttributesPerField));
      for (int i = 0; i < selection.names().names_size(); ++i) {
        const std::string& name = selection.names().names(i);
        if (name.empty()) {
          return InvalidArgument(absl::StrCat(path, ".names[", i, "]"), "ATTRIBUTE_NAME_EMPTY",
                                 "Attribute names must not be empty");
        }
        if (name.size() > kMaxNameLength)
          return InvalidArgument(absl::StrCat(path, ".names[", i, "]"), "ATTRIBUTE_NAME_INVALID",
                                 absl::StrFormat("Attribute name '%s' is longer than %d bytes",
                                                 Excerpt(name), kMaxNameLength));
        add_text(name);
      }
      break;
    case AttributeSelection::kSpecs:
      if (static_cast<size_t>(selection.specs().specs_size()) > kMaxAttributesPerField)
        return InvalidArgument(
            absl::StrCat(path, ".specs"), "TOO_MANY_ATTRIBUTES",
            absl::StrFormat("%d attributes are given; at most %d are allowed per field",
                            selection.specs().specs_size(), kMaxAttributesPerField));
      for (int i = 0; i < selection.specs().specs_size(); ++i) {
        const AttributeSpec& spec = selection.specs().specs(i);
        const std::string spec_path = absl::StrCat(path, ".specs[", i, "]");
        LP_RETURN_IF_ERROR(CheckSpecBounds(spec, spec_path));
        if (spec.name().empty()) {
          return InvalidArgument(
              absl::StrCat(spec_path, ".name"), "ATTRIBUTE_NAME_EMPTY",
              absl::StrCat("Attribute definition ", SpecRepr(spec), " has no name"));
        }
        if (spec.type().empty()) {
          return InvalidArgument(
              absl::StrCat(spec_path, ".type"), "ATTRIBUTE_TYPE_MISSING",
              absl::StrCat("Attribute definition ", SpecRepr(spec), " is missing a `type` key"));
        }
        if (!IsDarwinSupportedAttributeType(spec.type())) {
          return InvalidArgument(
              absl::StrCat(spec_path, ".type"), "ATTRIBUTE_TYPE_UNSUPPORTED",
              absl::StrFormat("Attribute '%s' has unsupported type '%s'. The '%s' backend "
                              "supports types %s",
                              spec.name(), spec.type(), kBackend,
                              PyList(DarwinSupportedAttributeTypes())));
        }
        if (spec.values_size() == 0 && AttributeTypeRequiresValues(spec.type())) {
          return InvalidArgument(
              absl::StrCat(spec_path, ".values"), "ATTRIBUTE_VALUES_REQUIRED",
              absl::StrFormat("Attribute '%s' of type '%s' requires a list of values", spec.name(),
                              spec.type()));
        }
        if (spec.has_default_value() && spec.values_size() > 0) {
          bool found = false;
          for (const auto& v : spec.values()) found = found || SameValue(v, spec.default_value());
          if (!found) {
            return InvalidArgument(
                absl::StrCat(spec_path, ".default_value"), "ATTRIBUTE_DEFAULT_NOT_IN_VALUES",
                absl::StrFormat("Default value %s for attribute '%s' does not appear in the "
                                "list of values [%s]",
                                PyRepr(spec.default_value()), spec.name(),
                                ValuesRepr(spec.values())));
          }
        }
        *out.add_specs() = spec;
      }
      break;
  }
  if (static_cast<size_t>(out.specs_size()) > kMaxAttributesPerField)
    return InvalidArgument(
        path, "TOO_MANY_ATTRIBUTES",
        absl::StrFormat("The existing labels carry %d distinct attributes; at most %d are "
                        "allowed per field",
                        out.specs_size(), kMaxAttributesPerField));
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < out.specs_size(); ++i) {
    const std::string& name = out.specs(i).name();
    if (IsReservedAttributeName(name)) {
      return InvalidArgument(path, "ATTRIBUTE_NAME_RESERVED",
                             absl::StrFormat("Attribute name '%s' is reserved: it is a field "
                                             "of FiftyOne labels",
                                             name));
    }
    if (!names.insert(name).second) {
      return InvalidArgument(path, "ATTRIBUTE_DUPLICATE",
                             absl::StrFormat("Attribute '%s' is defined twice", name));
    }
  }
  return out;
}

// Resolves the schema type of one field (§2.4).
absl::StatusOr<std::string> ResolveType(const FieldSchema& field, const ExistingField* existing,
                                        const std::string& path, const std::string& type_path,
                                        std::vector<std::string>& warnings, bool& filter_labels) {
  filter_labels = false;
  if (existing == nullptr) {
    if (!field.has_type() || field.type().empty()) {
      return InvalidArgument(
          type_path, "FIELD_TYPE_REQUIRED",
          absl::StrFormat("You must specify a type for new label field '%s'", field.field()));
    }
    return field.type();
  }
  const std::string& doc = existing->document_type();
  if (IsScalarDocumentType(doc)) {
    return InvalidArgument(
        path, "FIELD_SCALAR_UNSUPPORTED",
        absl::StrFormat("Field '%s' has unsupported scalar type %s. The '%s' backend supports []",
                        field.field(), doc, kBackend));
  }
  auto candidates = CandidateTypesOf(doc);
  if (!candidates) {
    return InvalidArgument(path, "FIELD_TYPE_UNSUPPORTED",
                           absl::StrFormat("Field '%s' has unsupported type %s", field.field(),
                                           doc.empty() ? "<unknown>" : doc));
  }
  filter_labels = candidates->size() > 1;
  if (field.has_type() && !field.type().empty()) {
    if (std::find(candidates->begin(), candidates->end(), field.type()) == candidates->end()) {
      const std::string actual =
          candidates->size() == 1 ? candidates->front() : PyList(*candidates);
      return InvalidArgument(
          type_path, "FIELD_TYPE_MISMATCH",
          absl::StrFormat("Manually reported label type '%s' for existing field '%s' does not "
                          "match its actual type '%s'",
                          field.type(), field.field(), actual));
    }
    return field.type();
  }
  if (candidates->size() > 1) {
    warnings.push_back(absl::StrFormat(
        "Found existing field '%s' with multiple types %s. Only the '%s' will be annotated",
        field.field(), PyList(*candidates), candidates->front()));
  }
  return candidates->front();
}

absl::Status CheckMediaCompatibility(const std::string& field, const std::string& return_type,
                                     labelport::v1::MediaType media_type, const std::string& path) {
  if (media_type == labelport::v1::MEDIA_TYPE_VIDEO && !IsFrameField(field)) {
    if (ReturnTypeIsSpatial(return_type)) {
      return InvalidArgument(
          path, "VIDEO_FIELD_NOT_FRAME_LEVEL",
          absl::StrFormat("Invalid label field '%s'. Spatial labels of type '%s' being annotated "
                          "on a video must be stored in a frame-level field, i.e., one that "
                          "starts with 'frames.'",
                          field, return_type));
    }
    return InvalidArgument(
        path, "VIDEO_SAMPLE_FIELD_UNSUPPORTED",
        absl::StrFormat("Invalid label field '%s'. Backend '%s' does not support annotating "
                        "video fields at a sample-level. Labels must be stored in a frame-level "
                        "field, i.e., one that starts with 'frames.'",
                        field, kBackend));
  }
  if (media_type == labelport::v1::MEDIA_TYPE_IMAGE && IsFrameField(field)) {
    return InvalidArgument(path, "FRAME_FIELD_ON_IMAGES",
                           absl::StrFormat("Invalid label field '%s'. Frame-level fields "
                                           "require video samples, but the samples are images",
                                           field));
  }
  return absl::OkStatus();
}

// Validates and normalises a class list; groups' attributes are normalised.
absl::StatusOr<ClassList> NormalizeClasses(const ClassList& input, bool existing,
                                           const std::vector<Sample>& samples,
                                           const std::string& field, bool trackable,
                                           const std::string& path) {
  ClassList out;
  size_t class_count = 0;
  for (const auto& entry : input.entries())
    class_count += entry.has_group() ? entry.group().classes().names_size() : 1;
  if (class_count > kMaxClassesPerField)
    return InvalidArgument(path, "TOO_MANY_CLASSES",
                           absl::StrFormat("Field '%s' has %d classes; at most %d are allowed",
                                           field, class_count, kMaxClassesPerField));
  for (int i = 0; i < input.entries_size(); ++i) {
    const auto& entry = input.entries(i);
    const std::string entry_path = absl::StrCat(path, ".entries[", i, "]");
    auto check_name = [&](const std::string& name, const std::string& name_path) -> absl::Status {
      if (name.size() <= kMaxNameLength) return absl::OkStatus();
      return InvalidArgument(name_path, "CLASS_NAME_INVALID",
                             absl::StrFormat("Class name '%s' is longer than %d bytes",
                                             Excerpt(name), kMaxNameLength));
    };
    switch (entry.kind_case()) {
      case labelport::v1::ClassEntry::kName:
        if (entry.name().empty()) {
          return InvalidArgument(entry_path, "CLASS_NAME_EMPTY", "Class names must not be empty");
        }
        LP_RETURN_IF_ERROR(check_name(entry.name(), absl::StrCat(entry_path, ".name")));
        *out.add_entries() = entry;
        break;
      case labelport::v1::ClassEntry::kGroup: {
        const auto& group = entry.group();
        if (!group.has_classes() || !group.has_attributes()) {
          return InvalidArgument(entry_path, "CLASS_GROUP_INVALID",
                                 absl::StrCat("Invalid classes dict ", ClassGroupRepr(group)));
        }
        std::set<std::string> members(group.classes().names().begin(),
                                      group.classes().names().end());
        if (members.count("") > 0) {
          return InvalidArgument(entry_path, "CLASS_NAME_EMPTY", "Class names must not be empty");
        }
        for (int k = 0; k < group.classes().names_size(); ++k)
          LP_RETURN_IF_ERROR(check_name(group.classes().names(k),
                                        absl::StrCat(entry_path, ".group.classes.names[", k, "]")));
        Observed observed = ObserveField(samples, field, trackable, members);
        LP_ASSIGN_OR_RETURN(AttributeSpecs specs,
                            NormalizeAttributes(group.attributes(), existing, observed,
                                                absl::StrCat(entry_path, ".attributes")));
        auto* g = out.add_entries()->mutable_group();
        *g->mutable_classes() = group.classes();
        *g->mutable_attributes()->mutable_specs() = std::move(specs);
        break;
      }
      case labelport::v1::ClassEntry::KIND_NOT_SET:
        return InvalidArgument(entry_path, "CLASS_ENTRY_EMPTY",
                               "A class entry must be a class name or a class group");
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<BuiltSchema> BuildLabelSchema(const CreateRunHeader& header,
                                             labelport::v1::MediaType media_type,
                                             std::vector<Sample>& samples) {
  BuiltSchema result;

  // §2.1: the accepted input forms.
  std::vector<FieldInput> inputs;
  std::string fields_path = "header.label_schema.fields";
  if (header.label_schema().fields_size() > 0) {
    for (const auto& f : header.label_schema().fields()) inputs.push_back({f, false});
  } else if (!header.label_field().empty()) {
    FieldInput in;
    in.schema.set_field(header.label_field());
    if (header.has_label_type()) in.schema.set_type(header.label_type());
    if (header.has_classes()) *in.schema.mutable_classes() = header.classes();
    if (header.has_attributes() && header.attributes().kind_case() != AttributeSelection::kInfer) {
      *in.schema.mutable_attributes() = header.attributes();
    }
    in.allow_from_shorthand = true;
    inputs.push_back(std::move(in));
    fields_path = "header.label_field";
  } else {
    return InvalidArgument("header.label_schema", "LABEL_SCHEMA_REQUIRED",
                           "Either `label_schema` or `label_field` is required");
  }

  if (inputs.size() > kMaxFieldsPerSchema)
    return InvalidArgument(fields_path, "TOO_MANY_FIELDS",
                           absl::StrFormat("The label schema has %d fields; at most %d are allowed",
                                           inputs.size(), kMaxFieldsPerSchema));
  if (static_cast<size_t>(header.existing_fields_size()) > kMaxExistingFields)
    return InvalidArgument("header.existing_fields", "TOO_MANY_EXISTING_FIELDS",
                           absl::StrFormat("%d existing fields are listed; at most %d are allowed",
                                           header.existing_fields_size(), kMaxExistingFields));
  absl::flat_hash_map<std::string, const ExistingField*> existing_fields;
  for (int i = 0; i < header.existing_fields_size(); ++i) {
    const auto& ef = header.existing_fields(i);
    const std::string ef_path = absl::StrCat("header.existing_fields[", i, "]");
    if (ef.field().size() > kMaxNameLength || ef.document_type().size() > kMaxNameLength)
      return InvalidArgument(
          ef_path, "EXISTING_FIELD_INVALID",
          absl::StrFormat("Existing field '%s' (document type '%s') has a name or document type "
                          "longer than %d bytes",
                          Excerpt(ef.field()), Excerpt(ef.document_type()), kMaxNameLength));
    if (static_cast<size_t>(ef.dataset_classes_size()) > kMaxClassesPerField)
      return InvalidArgument(
          absl::StrCat(ef_path, ".dataset_classes"), "TOO_MANY_CLASSES",
          absl::StrFormat("Existing field '%s' lists %d dataset classes; at most %d are allowed",
                          ef.field(), ef.dataset_classes_size(), kMaxClassesPerField));
    for (int k = 0; k < ef.dataset_classes_size(); ++k) {
      if (ef.dataset_classes(k).size() > kMaxNameLength)
        return InvalidArgument(absl::StrCat(ef_path, ".dataset_classes[", k, "]"),
                               "CLASS_NAME_INVALID",
                               absl::StrFormat("Class name '%s' is longer than %d bytes",
                                               Excerpt(ef.dataset_classes(k)), kMaxNameLength));
    }
    if (ef.field().empty() || !existing_fields.emplace(ef.field(), &ef).second) {
      return InvalidArgument(
          absl::StrCat(ef_path, ".field"), "EXISTING_FIELD_INVALID",
          absl::StrFormat("Existing field '%s' is empty or listed twice", ef.field()));
    }
  }

  auto global_flag = [&](bool has, bool value) { return has ? value : true; };
  const bool g_add = global_flag(header.has_allow_additions(), header.allow_additions());
  const bool g_del = global_flag(header.has_allow_deletions(), header.allow_deletions());
  const bool g_label = global_flag(header.has_allow_label_edits(), header.allow_label_edits());
  const bool g_index = global_flag(header.has_allow_index_edits(), header.allow_index_edits());
  const bool g_spatial =
      global_flag(header.has_allow_spatial_edits(), header.allow_spatial_edits());

  absl::flat_hash_set<std::string> seen_fields;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const FieldSchema& in = inputs[i].schema;
    const std::string path =
        inputs[i].allow_from_shorthand ? fields_path : absl::StrCat(fields_path, "[", i, "]");
    // In the shorthand form the request fields are the header's own.
    const bool shorthand = inputs[i].allow_from_shorthand;
    auto sub = [&](absl::string_view suffix) -> std::string {
      if (shorthand) {
        if (suffix == ".field") return "header.label_field";
        if (suffix == ".type") return "header.label_type";
        if (suffix == ".classes") return "header.classes";
        if (suffix == ".attributes") return "header.attributes";
      }
      return absl::StrCat(path, suffix);
    };
    const std::string& name = in.field();
    if (name.empty() || name == "frames." || name.size() > kMaxNameLength) {
      return InvalidArgument(sub(".field"), "FIELD_NAME_INVALID",
                             absl::StrFormat("Invalid label field name '%s'", Excerpt(name)));
    }
    if (in.type().size() > kMaxNameLength)
      return InvalidArgument(
          sub(".type"), "FIELD_TYPE_UNSUPPORTED",
          absl::StrFormat("Field '%s' has unsupported label type '%s'", name, Excerpt(in.type())));
    if (!seen_fields.insert(name).second) {
      return InvalidArgument(sub(".field"), "FIELD_DUPLICATE",
                             absl::StrFormat("Label field '%s' appears twice in the schema", name));
    }
    auto it = existing_fields.find(name);
    const ExistingField* existing = it == existing_fields.end() ? nullptr : it->second;

    bool filter_labels = false;
    LP_ASSIGN_OR_RETURN(std::string type, ResolveType(in, existing, path, sub(".type"),
                                                      result.warnings, filter_labels));
    if (!IsDarwinSupportedLabelType(type)) {
      return InvalidArgument(
          sub(".type"), "FIELD_TYPE_UNSUPPORTED",
          absl::StrFormat("Field '%s' has unsupported label type '%s'. The '%s' backend "
                          "supports %s",
                          name, type, kBackend, PyList(DarwinSupportedLabelTypes())));
    }
    const std::string return_type = *ReturnTypeOf(type);
    LP_RETURN_IF_ERROR(CheckMediaCompatibility(name, return_type, media_type, path));
    const bool trackable = IsTrackable(name, return_type);

    if (filter_labels) {
      for (auto& sample : samples) {
        for (auto& sf : *sample.mutable_fields()) {
          if (sf.field() != name) continue;
          // (mutable_value() would create a sample-level value on frame fields)
          if (sf.has_value()) FilterForSchemaType(type, sf.mutable_value());
          for (auto& frame : *sf.mutable_frames()) FilterForSchemaType(type, frame.mutable_value());
        }
      }
    }

    FieldSchema out;
    out.set_field(name);
    out.set_type(type);
    out.set_existing_field(existing != nullptr);

    // §2.5 classes: the field's, then the run's, then inference.
    const Observed observed = ObserveField(samples, name, trackable, std::nullopt);
    if (in.has_classes()) {
      LP_ASSIGN_OR_RETURN(*out.mutable_classes(),
                          NormalizeClasses(in.classes(), existing != nullptr, samples, name,
                                           trackable, sub(".classes")));
    } else if (header.has_classes()) {
      LP_ASSIGN_OR_RETURN(*out.mutable_classes(),
                          NormalizeClasses(header.classes(), existing != nullptr, samples, name,
                                           trackable, "header.classes"));
    } else if (existing != nullptr) {
      std::set<std::string> classes = observed.classes;
      classes.insert(existing->dataset_classes().begin(), existing->dataset_classes().end());
      classes.erase("");
      if (classes.size() > kMaxClassesPerField)
        return InvalidArgument(
            sub(".classes"), "TOO_MANY_CLASSES",
            absl::StrFormat("Field '%s' has %d distinct classes in its labels and dataset "
                            "classes; at most %d are allowed (give the classes explicitly)",
                            name, classes.size(), kMaxClassesPerField));
      for (const auto& c : classes) out.mutable_classes()->add_entries()->set_name(c);
    } else {
      return InvalidArgument(sub(".classes"), "FIELD_CLASSES_REQUIRED",
                             absl::StrFormat("You must provide a class list for new label "
                                             "field '%s'",
                                             name));
    }
    if (out.classes().entries_size() == 0 && existing == nullptr) {
      return InvalidArgument(sub(".classes"), "FIELD_CLASSES_REQUIRED",
                             absl::StrFormat("You must provide a class list for new label "
                                             "field '%s'",
                                             name));
    }

    // §2.6 attributes: the field's, then the run's, then `True`.
    const AttributeSelection& selection =
        in.has_attributes() ? in.attributes() : header.attributes();
    const std::string attr_path = in.has_attributes() ? sub(".attributes") : "header.attributes";
    LP_ASSIGN_OR_RETURN(*out.mutable_attributes()->mutable_specs(),
                        NormalizeAttributes(selection, existing != nullptr, observed, attr_path));

    // §2.2 allow_* flags: stored for existing fields only, where they apply.
    const bool explicit_flags = !inputs[i].allow_from_shorthand;
    if (explicit_flags && existing != nullptr) {
      if (in.has_allow_spatial_edits() && !ReturnTypeIsSpatial(return_type)) {
        return InvalidArgument(
            absl::StrCat(path, ".allow_spatial_edits"), "ALLOW_FLAG_NOT_APPLICABLE",
            absl::StrFormat("allow_spatial_edits does not apply to field '%s' of type '%s': "
                            "its labels are not spatial",
                            name, type));
      }
      if (in.has_allow_index_edits() && !trackable) {
        return InvalidArgument(
            absl::StrCat(path, ".allow_index_edits"), "ALLOW_FLAG_NOT_APPLICABLE",
            absl::StrFormat("allow_index_edits does not apply to field '%s': only frame-level "
                            "fields of type detections, polylines or keypoints have tracks",
                            name));
      }
    }
    if (existing != nullptr) {
      out.set_allow_additions(in.has_allow_additions() ? in.allow_additions() : g_add);
      out.set_allow_deletions(in.has_allow_deletions() ? in.allow_deletions() : g_del);
      if (ReturnTypeHasLabel(return_type))
        out.set_allow_label_edits(in.has_allow_label_edits() ? in.allow_label_edits() : g_label);
      if (ReturnTypeIsSpatial(return_type))
        out.set_allow_spatial_edits(in.has_allow_spatial_edits() ? in.allow_spatial_edits()
                                                                 : g_spatial);
      if (trackable) {
        out.set_allow_index_edits(in.has_allow_index_edits() ? in.allow_index_edits() : g_index);
        out.set_only_keyframes(observed.any_keyframe);
      }
    }
    *result.schema.add_fields() = std::move(out);
  }
  return result;
}

}  // namespace labelport::core
