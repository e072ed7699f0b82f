// The class and property sync's pure part: the classes a run needs, how a
// new class is made, and which property values are missing.
#include "service/backend/darwin/class_sync.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Parse;

const v1::LabelSchema kSchema = Parse<v1::LabelSchema>(R"pb(
  fields {
    field: "gt"
    type: "detections"
    classes {
      entries { name: "car" }
      entries { group { classes { names: "bus" names: "truck" } } }
    }
  }
  fields { field: "seg" type: "segmentation" }
  fields {
    field: "tag"
    type: "classification"
    classes { entries { name: "day" } }
  }
)pb");

TEST(ClassKeyStringTest, NameAndType) { EXPECT_EQ(ClassKeyString("car", "tag"), "car|tag"); }

TEST(FieldOfTest, FindsTheSchemasField) {
  ASSERT_NE(FieldOf(kSchema, "tag"), nullptr);
  EXPECT_EQ(FieldOf(kSchema, "tag")->type(), "classification");
  EXPECT_EQ(FieldOf(kSchema, "nope"), nullptr);
}

TEST(ClassNamesOfTest, EntriesAndGroups) {
  EXPECT_THAT(ClassNamesOf(kSchema.fields(0)), ElementsAre("bus", "car", "truck"));
  EXPECT_THAT(ClassNamesOf(kSchema.fields(1)), IsEmpty());
}

TEST(AddSampleClassesTest, LabelsOfSchemaFieldsOnly) {
  const v1::Sample sample =
      testing::ClassifiedSample("", {{"tag", "c", "night"}, {"other", "d", "ignored"}});
  std::set<ClassKey> classes;
  AddSampleClasses(kSchema, sample, &classes);
  EXPECT_THAT(classes, ElementsAre(ClassKey("night", "tag")));
}

TEST(RequiredClassesTest, SchemaClassesSampleClassesAndTheRasterLayer) {
  const std::set<ClassKey> required = RequiredClasses(kSchema, {{"night", "tag"}});
  EXPECT_THAT(required, ElementsAre(ClassKey("__raster_layer__", "raster_layer"),
                                    ClassKey("bus", "bounding_box"),
                                    ClassKey("car", "bounding_box"), ClassKey("day", "tag"),
                                    ClassKey("night", "tag"), ClassKey("truck", "bounding_box")));
}

TEST(AnyClassMissingTest, ComparesWithTheRecordedIds) {
  google::protobuf::Map<std::string, int64_t> ids;
  ids["car|bounding_box"] = 1;
  EXPECT_FALSE(AnyClassMissing({{"car", "bounding_box"}}, ids));
  EXPECT_TRUE(AnyClassMissing({{"car", "bounding_box"}, {"car", "tag"}}, ids));
}

DarwinClass Class(int64_t id, const std::string& name, std::vector<std::string> types,
                  std::vector<int64_t> dataset_ids = {}) {
  DarwinClass c;
  c.id = id;
  c.name = name;
  c.annotation_types = std::move(types);
  c.dataset_ids = std::move(dataset_ids);
  return c;
}

TEST(FindClassTest, ByNameAndMainType) {
  const std::vector<DarwinClass> classes = {
      Class(1, "car", {"tag"}),
      Class(2, "car", {"bounding_box", "text"}),
      Class(3, "bus", {}),
  };
  ASSERT_NE(FindClass(classes, {"car", "bounding_box"}), nullptr);
  EXPECT_EQ(FindClass(classes, {"car", "bounding_box"})->id, 2);
  EXPECT_EQ(FindClass(classes, {"car", "polygon"}), nullptr);
  EXPECT_EQ(FindClass(classes, {"bus", ""}), nullptr);
}

TEST(InDatasetTest, ByDatasetId) {
  const DarwinClass c = Class(1, "car", {"tag"}, {4, 5});
  EXPECT_TRUE(InDataset(c, 5));
  EXPECT_FALSE(InDataset(c, 6));
}

TEST(ClassTypesOfTest, MainTypeFirst) {
  const std::vector<std::string> types = ClassTypesOf(kSchema, {"car", "bounding_box"});
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "bounding_box");
}

TEST(ClassMetadataOfTest, OnlySkeletonClassesCarryMetadata) {
  EXPECT_TRUE(ClassMetadataOf(kSchema, {"car", "bounding_box"}).empty());
}

TEST(PropertyTest, DefinitionOfASelectAttribute) {
  const auto spec = Parse<v1::AttributeSpec>(R"pb(
    name: "color"
    type: "single_select"
    values { string_value: "red" }
    values { bool_value: true }
  )pb");
  const std::vector<std::string> wanted = WantedValues(spec);
  EXPECT_THAT(wanted, ElementsAre("red", "true"));
  const PropertyDefinition def = PropertyDefinitionOf(spec, 7, wanted);
  EXPECT_EQ(def.name, "color");
  EXPECT_EQ(def.type, "single_select");
  EXPECT_EQ(def.granularity, "section");
  EXPECT_FALSE(def.required);
  EXPECT_EQ(def.annotation_class_id, 7);
  EXPECT_THAT(def.values, ElementsAre("red", "true"));
  const auto annotation_level = Parse<v1::AttributeSpec>(
      R"pb(
        name: "x" type: "multi_select" granularity: "annotation" required: true
      )pb");
  EXPECT_EQ(PropertyDefinitionOf(annotation_level, 1, {}).granularity, "annotation");
  EXPECT_TRUE(PropertyDefinitionOf(annotation_level, 1, {}).required);
}

TEST(PropertyTest, MissingValuesAndResolution) {
  DarwinProperty property;
  property.id = "p";
  property.granularity = "annotation";
  property.values.push_back(DarwinPropertyValue{.id = "v1", .value = "red"});
  property.values.push_back(DarwinPropertyValue{.id = "v2", .value = "blue"});
  EXPECT_THAT(MissingValues(property, {"green", "red", "pink"}), ElementsAre("green", "pink"));
  EXPECT_THAT(MissingValues(property, {"blue"}), IsEmpty());
  const ResolvedProperty resolved = Resolve(property);
  EXPECT_EQ(resolved.id, "p");
  EXPECT_EQ(resolved.granularity, "annotation");
  EXPECT_EQ(resolved.value_ids.at("red"), "v1");
  EXPECT_EQ(resolved.value_ids.at("blue"), "v2");
}

}  // namespace
}  // namespace labelport::backend::darwin
