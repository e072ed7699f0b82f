#include "service/backend/darwin/class_sync.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/backend/darwin/field_labels.h"
#include "service/backend/darwin/skeleton.h"

namespace labelport::backend::darwin {

namespace v1 = labelport::v1;

std::string ClassKeyString(const std::string& name, const std::string& type) {
  return absl::StrCat(name, "|", type);
}

const v1::FieldSchema* FieldOf(const v1::LabelSchema& schema, const std::string& name) {
  for (const auto& f : schema.fields())
    if (f.field() == name) return &f;
  return nullptr;
}

void AddSampleClasses(const v1::LabelSchema& schema, const v1::Sample& sample,
                      std::set<ClassKey>* classes) {
  for (const auto& sf : sample.fields()) {
    const v1::FieldSchema* field = FieldOf(schema, sf.field());
    if (field == nullptr) continue;
    const std::string type = DarwinTypeOfField(*field);
    auto add = [&](const auto& label) { classes->insert({label.label(), type}); };
    ForEachLabel(sf.value(), add);
    for (const auto& frame : sf.frames()) ForEachLabel(frame.value(), add);
  }
}

std::set<std::string> ClassNamesOf(const v1::FieldSchema& field) {
  std::set<std::string> names;
  for (const auto& entry : field.classes().entries()) {
    if (entry.has_name()) names.insert(entry.name());
    if (entry.has_group())
      for (const auto& n : entry.group().classes().names()) names.insert(n);
  }
  return names;
}

std::set<ClassKey> RequiredClasses(const v1::LabelSchema& schema,
                                   const std::set<ClassKey>& sample_classes) {
  std::set<ClassKey> out = sample_classes;
  for (const auto& field : schema.fields()) {
    const std::string type = DarwinTypeOfField(field);
    // Masks are drawn on the team's built-in raster layer class.
    if (type == "mask") out.insert({"__raster_layer__", "raster_layer"});
    for (const auto& name : ClassNamesOf(field)) out.insert({name, type});
  }
  return out;
}

bool AnyClassMissing(const std::set<ClassKey>& required,
                     const google::protobuf::Map<std::string, int64_t>& class_ids) {
  for (const auto& key : required)
    if (!class_ids.contains(ClassKeyString(key.first, key.second))) return true;
  return false;
}

const DarwinClass* FindClass(const std::vector<DarwinClass>& classes, const ClassKey& key) {
  const DarwinClass* found = nullptr;
  for (const auto& c : classes) {
    if (c.name == key.first && !c.annotation_types.empty() &&
        c.annotation_types.front() == key.second)
      found = &c;
  }
  return found;
}

bool InDataset(const DarwinClass& c, int64_t dataset_id) {
  return std::find(c.dataset_ids.begin(), c.dataset_ids.end(), dataset_id) != c.dataset_ids.end();
}

std::vector<std::string> ClassTypesOf(const v1::LabelSchema& schema, const ClassKey& key) {
  std::set<std::string> subtypes;
  for (const auto& f : schema.fields()) {
    if (DarwinTypeOfField(f) != key.second) continue;
    for (auto& s : DarwinSubTypesFor(f, key.first)) subtypes.insert(s);
  }
  std::vector<std::string> types{key.second};
  types.insert(types.end(), subtypes.begin(), subtypes.end());
  return types;
}

boost::json::object ClassMetadataOf(const v1::LabelSchema& schema, const ClassKey& key) {
  if (key.second != "skeleton") return {};
  const v1::FieldSchema* any = nullptr;
  for (const auto& f : schema.fields()) {
    if (DarwinTypeOfField(f) != "skeleton") continue;
    if (any == nullptr) any = &f;
    for (const auto& e : f.classes().entries())
      if (e.name() == key.first) return SkeletonClassMetadata(f.skeleton());
  }
  return any != nullptr ? SkeletonClassMetadata(any->skeleton()) : boost::json::object{};
}

std::vector<std::string> WantedValues(const v1::AttributeSpec& spec) {
  std::vector<std::string> wanted;
  for (const auto& v : spec.values()) wanted.push_back(PropertyValueString(v));
  return wanted;
}

PropertyDefinition PropertyDefinitionOf(const v1::AttributeSpec& spec, int64_t class_id,
                                        std::vector<std::string> values) {
  PropertyDefinition def;
  def.name = spec.name();
  def.type = spec.type();
  def.granularity = spec.has_granularity() ? spec.granularity() : "section";
  def.required = spec.has_required() && spec.required();
  def.annotation_class_id = class_id;
  def.values = std::move(values);
  return def;
}

std::vector<std::string> MissingValues(const DarwinProperty& property,
                                       const std::vector<std::string>& wanted) {
  std::vector<std::string> missing;
  for (const auto& w : wanted) {
    bool have = false;
    for (const auto& v : property.values) have = have || v.value == w;
    if (!have) missing.push_back(w);
  }
  return missing;
}

ResolvedProperty Resolve(const DarwinProperty& property) {
  ResolvedProperty resolved;
  resolved.id = property.id;
  resolved.granularity = property.granularity;
  for (const auto& v : property.values) resolved.value_ids[v.value] = v.id;
  return resolved;
}

}  // namespace labelport::backend::darwin
