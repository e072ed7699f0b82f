// The class and property sync of the upload job, its pure part: which V7
// annotation classes a run needs (its schema's and its labels'), how each
// is created (sub-types, skeleton metadata), and which property values a
// class still lacks.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_CLASS_SYNC_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_CLASS_SYNC_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "google/protobuf/map.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/darwin_types.h"

namespace labelport::backend::darwin {

// The key of a class in DarwinRunState::class_ids: "<name>|<darwin type>".
std::string ClassKeyString(const std::string& name, const std::string& type);

// The schema's field named `name`; null when the schema has none.
const labelport::v1::FieldSchema* FieldOf(const labelport::v1::LabelSchema& schema,
                                          const std::string& name);

// Adds to `classes` the (label, darwin type) of every label of `sample`
// (sample- and frame-level) in a field of `schema`.
void AddSampleClasses(const labelport::v1::LabelSchema& schema, const labelport::v1::Sample& sample,
                      std::set<ClassKey>* classes);

// The class names a field's class list names (entries and groups).
std::set<std::string> ClassNamesOf(const labelport::v1::FieldSchema& field);

// Every class the run needs: `sample_classes` plus the schema's classes, and
// the team's raster layer class when a field holds masks.
std::set<ClassKey> RequiredClasses(const labelport::v1::LabelSchema& schema,
                                   const std::set<ClassKey>& sample_classes);

// Whether some of `required` has no id in `class_ids` yet.
bool AnyClassMissing(const std::set<ClassKey>& required,
                     const google::protobuf::Map<std::string, int64_t>& class_ids);

// The class of `classes` with `key`'s name and main type (the last such);
// null when there is none.
const DarwinClass* FindClass(const std::vector<DarwinClass>& classes, const ClassKey& key);

// Whether `c` is enabled in the dataset `dataset_id`.
bool InDataset(const DarwinClass& c, int64_t dataset_id);

// The annotation types of a new class: its main type, then the sub-types
// its fields enable.
std::vector<std::string> ClassTypesOf(const labelport::v1::LabelSchema& schema,
                                      const ClassKey& key);

// A new class's metadata: a skeleton class carries the skeleton of the
// (first) field whose classes include it, else of the first skeleton field.
boost::json::object ClassMetadataOf(const labelport::v1::LabelSchema& schema, const ClassKey& key);

// The V7 value strings of a select attribute.
std::vector<std::string> WantedValues(const labelport::v1::AttributeSpec& spec);

// The property to create for a select attribute of class `class_id`
// (granularity "section" unless the attribute names one).
PropertyDefinition PropertyDefinitionOf(const labelport::v1::AttributeSpec& spec, int64_t class_id,
                                        std::vector<std::string> values);

// The values of `wanted` that `property` lacks, in `wanted`'s order.
std::vector<std::string> MissingValues(const DarwinProperty& property,
                                       const std::vector<std::string>& wanted);

// What the encoder needs of a property: its id, granularity, value ids.
ResolvedProperty Resolve(const DarwinProperty& property);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_CLASS_SYNC_H_
