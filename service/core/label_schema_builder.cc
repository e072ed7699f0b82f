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

using backend::BackendCapabilities;

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
  if (group.has_attributes()) parts.emplace_back("'attributes': {...}");
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

}  // namespace

namespace label_schema_internal {

// What existing labels tell about a field (or the labels of some of its
// classes): observed classes and attributes, each recorded only when the
// schema infers it (so that memory is spent only on what is used).
struct Observed {
  bool record_classes = false;
  bool record_attributes = false;
  std::set<std::string, std::less<>> classes;
  // Attribute names in order of first appearance (non-null values only).
  std::vector<std::string> attribute_names;
  absl::flat_hash_set<std::string> attribute_seen;
  bool any_keyframe = false;

  void AddLabel(const LabelView& label, bool trackable) {
    if (record_classes && !label.label.empty()) classes.emplace(label.label);
    if (label.keyframe.value_or(false)) any_keyframe = true;
    if (!record_attributes || label.attributes == nullptr) return;
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

// What the labels of one schema field tell, gathered batch by batch: the
// field's type (to filter labels by) and observations of the whole field and
// of each class group of its class list.
struct FieldObservation {
  std::string field;
  std::string type;
  bool filter_labels = false;
  bool trackable = false;
  // Where errors about inferred classes and attributes point.
  std::string classes_path;
  std::string attributes_path;
  Observed whole;
  struct Group {
    std::set<std::string, std::less<>> members;
    std::string attributes_path;
    Observed observed;
  };
  // By entry of the field's class list (entries that are no group record
  // nothing).
  std::vector<Group> groups;
};

}  // namespace label_schema_internal

namespace {

using label_schema_internal::FieldObservation;
using label_schema_internal::Observed;

const Observed& NothingObserved() {
  static const Observed* const kNothing = new Observed();
  return *kNothing;
}

// At most kMaxAttributesPerField attributes given (`count`, the length of
// the list at `path`).
absl::Status CheckGivenAttributeCount(int count, const std::string& path) {
  if (static_cast<size_t>(count) <= kMaxAttributesPerField) return absl::OkStatus();
  return InvalidArgument(
      path, "TOO_MANY_ATTRIBUTES",
      absl::StrFormat("%d attributes are given; at most %d are allowed per field", count,
                      kMaxAttributesPerField));
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

// Whether a selection takes the attributes observed on existing labels.
bool InfersAttributes(const AttributeSelection& selection) {
  return selection.kind_case() == AttributeSelection::KIND_NOT_SET ||
         (selection.kind_case() == AttributeSelection::kInfer && selection.infer());
}

// Normalises an attribute selection into specs (§2.6).
absl::StatusOr<AttributeSpecs> NormalizeAttributes(const BackendCapabilities& backend,
                                                   const AttributeSelection& selection,
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
      LP_RETURN_IF_ERROR(
          CheckGivenAttributeCount(selection.names().names_size(), absl::StrCat(path, ".names")));
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
      LP_RETURN_IF_ERROR(
          CheckGivenAttributeCount(selection.specs().specs_size(), absl::StrCat(path, ".specs")));
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
        if (!backend.SupportsAttributeType(spec.type())) {
          return InvalidArgument(
              absl::StrCat(spec_path, ".type"), "ATTRIBUTE_TYPE_UNSUPPORTED",
              absl::StrFormat("Attribute '%s' has unsupported type '%s'. The '%s' backend "
                              "supports types %s",
                              spec.name(), spec.type(), backend.name,
                              PyList(backend.attribute_types)));
        }
        if (spec.values_size() == 0 && backend.AttributeTypeRequiresValues(spec.type())) {
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
absl::StatusOr<std::string> ResolveType(const BackendCapabilities& backend,
                                        const FieldSchema& field, const ExistingField* existing,
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
                        field.field(), doc, backend.name));
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

absl::Status CheckMediaCompatibility(const BackendCapabilities& backend, const std::string& field,
                                     const std::string& return_type,
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
                        field, backend.name));
  }
  if (media_type == labelport::v1::MEDIA_TYPE_IMAGE && IsFrameField(field)) {
    return InvalidArgument(path, "FRAME_FIELD_ON_IMAGES",
                           absl::StrFormat("Invalid label field '%s'. Frame-level fields "
                                           "require video samples, but the samples are images",
                                           field));
  }
  return absl::OkStatus();
}

// A keypoint skeleton: at most kMaxPointsPerShape nodes, names within
// kMaxNameLength and distinct, edges between nodes.
absl::Status CheckSkeleton(const labelport::v1::KeypointSkeleton& skeleton,
                           const std::string& field, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(path, "SKELETON_INVALID",
                           absl::StrFormat("Field '%s' skeleton: %s", field, why));
  };
  if (static_cast<size_t>(skeleton.labels_size()) > kMaxPointsPerShape)
    return bad(absl::StrFormat("more than %d labels", kMaxPointsPerShape));
  std::set<std::string> names;
  for (const auto& label : skeleton.labels()) {
    if (label.size() > kMaxNameLength)
      return bad(
          absl::StrFormat("label '%s' is longer than %d bytes", Excerpt(label), kMaxNameLength));
    if (!label.empty() && !names.insert(label).second)
      return bad(absl::StrFormat("label '%s' appears twice", Excerpt(label)));
  }
  size_t edge_nodes = 0;
  for (const auto& edge : skeleton.edges()) {
    edge_nodes += static_cast<size_t>(edge.nodes_size());
    for (uint32_t node : edge.nodes())
      if (node >= kMaxPointsPerShape)
        return bad(absl::StrFormat("edge node %d is beyond %d points", node, kMaxPointsPerShape));
  }
  if (edge_nodes > kMaxPointsPerShape)
    return bad(absl::StrFormat("edges list more than %d nodes", kMaxPointsPerShape));
  return absl::OkStatus();
}

// A segmentation field (FiftyOne's `_get_mask_targets`): its mask targets —
// given, or for an existing field without them FiftyOne's default {1..255 →
// "1".."255", 0 → "background"} — and the classes they name (value 0, the
// background, excepted), in value order; no attributes. `index` counts the
// segmentation fields before this one: V7 keeps ONE raster layer per image,
// so a schema can hold one segmentation field, on images.
absl::Status NormalizeSegmentation(const BackendCapabilities& backend, const FieldSchema& in,
                                   bool existing, const std::string& path, int index,
                                   FieldSchema* out) {
  const std::string& name = in.field();
  if (IsFrameField(name))
    return InvalidArgument(absl::StrCat(path, ".field"), "SEGMENTATION_FIELD_UNSUPPORTED",
                           absl::StrFormat("Field '%s': the %s backend annotates "
                                           "segmentations of images only, not of video frames",
                                           name, backend.name));
  if (index > 0)
    return InvalidArgument(absl::StrCat(path, ".type"), "SEGMENTATION_FIELD_UNSUPPORTED",
                           absl::StrFormat("Field '%s': V7 holds one raster layer per image, so "
                                           "a run can annotate one segmentation field",
                                           name));
  std::map<uint32_t, std::string> targets(in.mask_targets().begin(), in.mask_targets().end());
  if (targets.empty()) {
    if (!existing)
      return InvalidArgument(
          absl::StrCat(path, ".mask_targets"), "MASK_TARGETS_INVALID",
          absl::StrFormat("You must provide mask targets for new label field '%s'", name));
    for (uint32_t v = 1; v < 256; ++v) targets[v] = absl::StrCat(v);
    targets[0] = "background";
  }
  std::set<std::string> names;
  for (const auto& [value, class_name] : targets) {
    if (value == 0) continue;
    if (value > 0xffff || class_name.empty() || class_name.size() > kMaxNameLength ||
        class_name == "__raster_layer__" || !names.insert(class_name).second)
      return InvalidArgument(
          absl::StrCat(path, ".mask_targets"), "MASK_TARGETS_INVALID",
          absl::StrFormat("Field '%s' mask target %d -> '%s': targets map pixel values 1 to "
                          "65535 to distinct, non-empty class names (not '__raster_layer__')",
                          name, value, Excerpt(class_name)));
    out->mutable_classes()->add_entries()->set_name(class_name);
  }
  if (names.size() > kMaxClassesPerField)
    return InvalidArgument(absl::StrCat(path, ".mask_targets"), "TOO_MANY_CLASSES",
                           absl::StrFormat("Field '%s' has %d mask targets; at most %d are allowed",
                                           name, names.size(), kMaxClassesPerField));
  for (const auto& [value, class_name] : targets)
    (*out->mutable_mask_targets())[value] = class_name;
  out->mutable_attributes()->mutable_specs();
  return absl::OkStatus();
}

// Validates and normalises a class list; groups' attributes are normalised.
// `observed` holds the observations of the field (nullptr before any);
// `plan`, when given, receives the class groups to observe.
absl::StatusOr<ClassList> NormalizeClasses(const BackendCapabilities& backend,
                                           const ClassList& input, bool existing,
                                           const FieldObservation* observed,
                                           const std::string& field, const std::string& path,
                                           FieldObservation* plan) {
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
        const std::string attributes_path = absl::StrCat(entry_path, ".attributes");
        if (plan != nullptr) {
          plan->groups.resize(i + 1);
          FieldObservation::Group& g = plan->groups[i];
          g.members.insert(members.begin(), members.end());
          g.attributes_path = attributes_path;
          g.observed.record_attributes = existing && InfersAttributes(group.attributes());
        }
        const Observed& group_observed =
            observed != nullptr && static_cast<size_t>(i) < observed->groups.size()
                ? observed->groups[i].observed
                : NothingObserved();
        LP_ASSIGN_OR_RETURN(AttributeSpecs specs,
                            NormalizeAttributes(backend, group.attributes(), existing,
                                                group_observed, attributes_path));
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

// The schema of `header` for `media_type` given what the labels told
// (`observations`, by field name). With `plan`, also the observations to
// gather (empty ones, one per field, in schema order).
absl::StatusOr<BuiltSchema> Build(const BackendCapabilities& backend, const CreateRunHeader& header,
                                  labelport::v1::MediaType media_type,
                                  const std::map<std::string, FieldObservation>& observations,
                                  std::vector<FieldObservation>* plan) {
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
  int segmentation_fields = 0;
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
    LP_ASSIGN_OR_RETURN(std::string type, ResolveType(backend, in, existing, path, sub(".type"),
                                                      result.warnings, filter_labels));
    const std::optional<std::string> known_return_type = ReturnTypeOf(type);
    if (!backend.SupportsLabelType(type) || !known_return_type.has_value()) {
      return InvalidArgument(
          sub(".type"), "FIELD_TYPE_UNSUPPORTED",
          absl::StrFormat("Field '%s' has unsupported label type '%s'. The '%s' backend "
                          "supports %s",
                          name, type, backend.name, PyList(backend.label_types)));
    }
    const std::string& return_type = *known_return_type;
    LP_RETURN_IF_ERROR(CheckMediaCompatibility(backend, name, return_type, media_type, path));
    const bool trackable = IsTrackable(name, return_type);

    const AttributeSelection& selection =
        in.has_attributes() ? in.attributes() : header.attributes();
    const std::string attr_path = in.has_attributes() ? sub(".attributes") : "header.attributes";
    FieldObservation* field_plan = nullptr;
    if (plan != nullptr) {
      field_plan = &plan->emplace_back();
      field_plan->field = name;
      field_plan->type = type;
      field_plan->filter_labels = filter_labels;
      field_plan->trackable = trackable;
      field_plan->classes_path = sub(".classes");
      field_plan->attributes_path = attr_path;
      field_plan->whole.record_classes =
          existing != nullptr && !in.has_classes() && !header.has_classes();
      field_plan->whole.record_attributes = existing != nullptr && InfersAttributes(selection);
    }
    auto found = observations.find(name);
    const FieldObservation* field_observed = found == observations.end() ? nullptr : &found->second;

    FieldSchema out;
    out.set_field(name);
    out.set_type(type);
    out.set_existing_field(existing != nullptr);

    if (in.has_skeleton() && (type == "keypoint" || type == "keypoints")) {
      LP_RETURN_IF_ERROR(CheckSkeleton(in.skeleton(), name, absl::StrCat(path, ".skeleton")));
      *out.mutable_skeleton() = in.skeleton();
    }
    if (type == "segmentation") {
      if (field_plan != nullptr) {
        field_plan->whole.record_classes = false;
        field_plan->whole.record_attributes = false;
      }
      LP_RETURN_IF_ERROR(NormalizeSegmentation(backend, in, existing != nullptr, path,
                                               segmentation_fields++, &out));
      if (existing != nullptr) {
        out.set_allow_additions(in.has_allow_additions() ? in.allow_additions() : g_add);
        out.set_allow_deletions(in.has_allow_deletions() ? in.allow_deletions() : g_del);
        out.set_allow_spatial_edits(in.has_allow_spatial_edits() ? in.allow_spatial_edits()
                                                                 : g_spatial);
      }
      *result.schema.add_fields() = std::move(out);
      continue;
    }

    // §2.5 classes: the field's, then the run's, then inference.
    const Observed& observed =
        field_observed != nullptr ? field_observed->whole : NothingObserved();
    if (in.has_classes()) {
      LP_ASSIGN_OR_RETURN(*out.mutable_classes(),
                          NormalizeClasses(backend, in.classes(), existing != nullptr,
                                           field_observed, name, sub(".classes"), field_plan));
    } else if (header.has_classes()) {
      LP_ASSIGN_OR_RETURN(*out.mutable_classes(),
                          NormalizeClasses(backend, header.classes(), existing != nullptr,
                                           field_observed, name, "header.classes", field_plan));
    } else if (existing != nullptr) {
      std::set<std::string> classes(observed.classes.begin(), observed.classes.end());
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
    LP_ASSIGN_OR_RETURN(
        *out.mutable_attributes()->mutable_specs(),
        NormalizeAttributes(backend, selection, existing != nullptr, observed, attr_path));

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

  size_t classes = 0;
  size_t attributes = 0;
  for (const auto& f : result.schema.fields()) {
    attributes += static_cast<size_t>(f.attributes().specs().specs_size());
    for (const auto& e : f.classes().entries()) {
      classes += e.has_group() ? static_cast<size_t>(e.group().classes().names_size()) : 1;
      if (e.has_group()) attributes += e.group().attributes().specs().specs_size();
    }
  }
  if (classes > kMaxClassesPerRun)
    return InvalidArgument(fields_path, "TOO_MANY_CLASSES",
                           absl::StrFormat("The label schema has %d classes in all its fields; at "
                                           "most %d are allowed",
                                           classes, kMaxClassesPerRun));
  if (attributes > kMaxAttributesPerRun)
    return InvalidArgument(
        fields_path, "TOO_MANY_ATTRIBUTES",
        absl::StrFormat("The label schema has %d attributes in all its fields and class groups; "
                        "at most %d are allowed",
                        attributes, kMaxAttributesPerRun));
  return result;
}

// The attributes observed (recorded) in all of `observations`.
size_t RecordedAttributes(const FieldObservation& o) {
  size_t n = o.whole.attribute_names.size();
  for (const auto& g : o.groups) n += g.observed.attribute_names.size();
  return n;
}

}  // namespace

struct LabelSchemaBuilder::State {
  BackendCapabilities backend;
  CreateRunHeader header;
  labelport::v1::MediaType media_type = labelport::v1::MEDIA_TYPE_UNSPECIFIED;
  // The schema before any label was seen.
  labelport::v1::LabelSchema fields;
  std::map<std::string, FieldObservation> observations;
  size_t recorded_classes = 0;
  size_t recorded_attributes = 0;
};

LabelSchemaBuilder::LabelSchemaBuilder(std::unique_ptr<State> state) : state_(std::move(state)) {}
LabelSchemaBuilder::~LabelSchemaBuilder() = default;
LabelSchemaBuilder::LabelSchemaBuilder(LabelSchemaBuilder&&) noexcept = default;
LabelSchemaBuilder& LabelSchemaBuilder::operator=(LabelSchemaBuilder&&) noexcept = default;

absl::StatusOr<LabelSchemaBuilder> LabelSchemaBuilder::Create(const CreateRunHeader& header,
                                                              labelport::v1::MediaType media_type,
                                                              const BackendCapabilities& backend) {
  auto state = std::make_unique<State>();
  state->backend = backend;
  std::vector<FieldObservation> plan;
  LP_ASSIGN_OR_RETURN(BuiltSchema built, Build(backend, header, media_type, {}, &plan));
  state->header = header;
  state->media_type = media_type;
  state->fields = std::move(built.schema);
  for (auto& o : plan) {
    std::string field = o.field;
    state->observations.emplace(std::move(field), std::move(o));
  }
  return LabelSchemaBuilder(std::move(state));
}

const labelport::v1::LabelSchema& LabelSchemaBuilder::fields() const { return state_->fields; }

absl::Status LabelSchemaBuilder::Observe(std::vector<Sample>& batch) {
  for (auto& sample : batch) {
    for (auto& sf : *sample.mutable_fields()) {
      auto it = state_->observations.find(sf.field());
      if (it == state_->observations.end()) continue;  // the validator rejects it
      FieldObservation& o = it->second;
      if (o.filter_labels) {
        // (mutable_value() would create a sample-level value on frame fields)
        if (sf.has_value()) FilterForSchemaType(o.type, sf.mutable_value());
        for (auto& frame : *sf.mutable_frames()) FilterForSchemaType(o.type, frame.mutable_value());
      }
      const size_t classes_before = o.whole.classes.size();
      const size_t attributes_before = RecordedAttributes(o);
      auto add = [&](const labelport::v1::FieldValue& value) {
        for (const auto& label : LabelsOf(value)) {
          o.whole.AddLabel(label, o.trackable);
          for (auto& g : o.groups) {
            if (g.observed.record_attributes && g.members.find(label.label) != g.members.end())
              g.observed.AddLabel(label, o.trackable);
          }
        }
      };
      if (sf.has_value()) add(sf.value());
      for (const auto& frame : sf.frames()) add(frame.value());

      // Inferred classes and attributes are bounded while they are gathered.
      state_->recorded_classes += o.whole.classes.size() - classes_before;
      state_->recorded_attributes += RecordedAttributes(o) - attributes_before;
      if (o.whole.classes.size() > kMaxClassesPerField)
        return InvalidArgument(
            o.classes_path, "TOO_MANY_CLASSES",
            absl::StrFormat("The labels of field '%s' have more than %d distinct classes; at "
                            "most %d are allowed (give the classes explicitly)",
                            o.field, kMaxClassesPerField, kMaxClassesPerField));
      if (state_->recorded_classes > kMaxClassesPerRun)
        return InvalidArgument(
            o.classes_path, "TOO_MANY_CLASSES",
            absl::StrFormat("The labels of the run's fields have more than %d distinct classes "
                            "in all; at most %d are allowed (give the classes explicitly)",
                            kMaxClassesPerRun, kMaxClassesPerRun));
      auto too_many_attributes = [&](const std::string& path,
                                     const std::vector<std::string>& names) -> absl::Status {
        if (names.size() <= kMaxAttributesPerField) return absl::OkStatus();
        return InvalidArgument(
            path, "TOO_MANY_ATTRIBUTES",
            absl::StrFormat("The labels of field '%s' carry more than %d distinct attributes; "
                            "at most %d are allowed (give the attributes explicitly)",
                            o.field, kMaxAttributesPerField, kMaxAttributesPerField));
      };
      LP_RETURN_IF_ERROR(too_many_attributes(o.attributes_path, o.whole.attribute_names));
      for (const auto& g : o.groups)
        LP_RETURN_IF_ERROR(too_many_attributes(g.attributes_path, g.observed.attribute_names));
      if (state_->recorded_attributes > kMaxAttributesPerRun)
        return InvalidArgument(
            o.attributes_path, "TOO_MANY_ATTRIBUTES",
            absl::StrFormat("The labels of the run's fields carry more than %d distinct "
                            "attributes in all; at most %d are allowed (give the attributes "
                            "explicitly)",
                            kMaxAttributesPerRun, kMaxAttributesPerRun));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BuiltSchema> LabelSchemaBuilder::Finish() const {
  return Build(state_->backend, state_->header, state_->media_type, state_->observations, nullptr);
}

absl::StatusOr<BuiltSchema> BuildLabelSchema(const CreateRunHeader& header,
                                             labelport::v1::MediaType media_type,
                                             const BackendCapabilities& backend,
                                             std::vector<Sample>& samples) {
  LP_ASSIGN_OR_RETURN(LabelSchemaBuilder builder,
                      LabelSchemaBuilder::Create(header, media_type, backend));
  LP_RETURN_IF_ERROR(builder.Observe(samples));
  return builder.Finish();
}

}  // namespace labelport::core
