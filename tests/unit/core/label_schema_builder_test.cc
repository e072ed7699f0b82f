#include "service/core/label_schema_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/backend/backend_capabilities.h"
#include "service/backend/darwin/darwin_capabilities.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::backend::BackendCapabilities;
using ::labelport::backend::darwin::DarwinCapabilities;
using ::labelport::core::testing::ImageWith;
using ::labelport::core::testing::Parse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kSupportedTypes[] =
    "['classification', 'classifications', 'detection', 'detections', 'instance', 'instances', "
    "'polygon', 'polygons', 'polyline', 'polylines', 'keypoint', 'keypoints', 'segmentation']";

v1::CreateRunHeader Header(const std::string& text) {
  v1::CreateRunHeader header = Parse<v1::CreateRunHeader>(text);
  header.set_parent("datasets/ds");
  header.set_anno_key("run1");
  return header;
}

absl::StatusOr<BuiltSchema> Build(const v1::CreateRunHeader& header,
                                  v1::MediaType media = v1::MEDIA_TYPE_IMAGE) {
  std::vector<v1::Sample> samples;
  return BuildLabelSchema(header, media, DarwinCapabilities(), samples);
}

absl::StatusOr<BuiltSchema> Build(const v1::CreateRunHeader& header,
                                  std::vector<v1::Sample>& samples,
                                  v1::MediaType media = v1::MEDIA_TYPE_IMAGE) {
  return BuildLabelSchema(header, media, DarwinCapabilities(), samples);
}

std::vector<std::string> ClassNames(const v1::FieldSchema& field) {
  std::vector<std::string> out;
  for (const auto& e : field.classes().entries()) out.push_back(e.name());
  return out;
}

std::vector<std::string> AttributeNames(const v1::FieldSchema& field) {
  std::vector<std::string> out;
  for (const auto& s : field.attributes().specs().specs()) out.push_back(s.name() + ":" + s.type());
  return out;
}

// --- §2.1 input forms (item 5) ---

TEST(LabelSchemaBuilderTest, NeitherLabelSchemaNorLabelFieldIsRejected) {
  EXPECT_INVALID(Build(Header("")), "header.label_schema", "LABEL_SCHEMA_REQUIRED",
                 "Either `label_schema` or `label_field` is required");
}

TEST(LabelSchemaBuilderTest, LabelFieldShorthandBuildsOneField) {
  auto built = Build(Header(R"pb(
    label_field: "gt"
    label_type: "detections"
    classes {
      entries { name: "cat" }
      entries { name: "dog" }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(built->schema.fields_size(), 1);
  const auto& f = built->schema.fields(0);
  EXPECT_EQ(f.field(), "gt");
  EXPECT_EQ(f.type(), "detections");
  EXPECT_FALSE(f.existing_field());
  EXPECT_THAT(ClassNames(f), ElementsAre("cat", "dog"));
  EXPECT_THAT(f.attributes().specs().specs(), IsEmpty());
}

TEST(LabelSchemaBuilderTest, LabelSchemaTakesPrecedenceOverLabelField) {
  auto built = Build(Header(R"pb(
    label_field: "ignored"
    label_type: "keypoints"
    label_schema {
      fields {
        field: "gt"
        type: "classification"
        classes { entries { name: "a" } }
      }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(built->schema.fields_size(), 1);
  EXPECT_EQ(built->schema.fields(0).field(), "gt");
  EXPECT_EQ(built->schema.fields(0).type(), "classification");
}

// --- item 18 ---

TEST(LabelSchemaBuilderTest, NewFieldWithoutTypeIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_REQUIRED",
                 "You must specify a type for new label field 'gt'");
}

// Regression test (found by this suite, fixed in service/core).
TEST(LabelSchemaBuilderTest, ShorthandNewFieldWithoutTypeNamesLabelType) {
  EXPECT_INVALID(Build(Header(R"pb(label_field: "gt"
                                   classes { entries { name: "a" } })pb")),
                 "header.label_type", "FIELD_TYPE_REQUIRED",
                 "You must specify a type for new label field 'gt'");
}

// Regression test (found by this suite, fixed in service/core).
TEST(LabelSchemaBuilderTest, ShorthandNewFieldWithoutClassesNamesHeaderClasses) {
  EXPECT_INVALID(Build(Header(R"pb(label_field: "gt" label_type: "detections")pb")),
                 "header.classes", "FIELD_CLASSES_REQUIRED",
                 "You must provide a class list for new label field 'gt'");
}

// Regression test (found by this suite, fixed in service/core).
TEST(LabelSchemaBuilderTest, ShorthandAttributeErrorNamesHeaderAttributes) {
  EXPECT_INVALID(Build(Header(R"pb(label_field: "gt"
                                   label_type: "detections"
                                   classes { entries { name: "a" } }
                                   attributes { specs { specs { name: "color" } } })pb")),
                 "header.attributes.specs[0].type", "ATTRIBUTE_TYPE_MISSING",
                 "Attribute definition {'name': 'color'} is missing a `type` key");
}

// Regression test (found by this suite, fixed in service/core).
TEST(LabelSchemaBuilderTest, ShorthandInvalidFieldNameNamesLabelField) {
  EXPECT_INVALID(Build(Header(R"pb(label_field: "frames."
                                   label_type: "detections"
                                   classes { entries { name: "a" } })pb"),
                       v1::MEDIA_TYPE_VIDEO),
                 "header.label_field", "FIELD_NAME_INVALID", "Invalid label field name 'frames.'");
}

// --- item 19 ---

TEST(LabelSchemaBuilderTest, NewFieldWithoutClassesIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema { fields { field: "gt" type: "detections" } })pb")),
                 "header.label_schema.fields[0].classes", "FIELD_CLASSES_REQUIRED",
                 "You must provide a class list for new label field 'gt'");
}

TEST(LabelSchemaBuilderTest, NewFieldWithEmptyClassListIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes {}
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes", "FIELD_CLASSES_REQUIRED",
                 "You must provide a class list for new label field 'gt'");
}

TEST(LabelSchemaBuilderTest, GlobalClassesApplyToFieldsWithoutClasses) {
  auto built = Build(Header(R"pb(
    classes { entries { name: "x" } }
    label_schema {
      fields { field: "a" type: "detections" }
      fields {
        field: "b"
        type: "detections"
        classes { entries { name: "y" } }
      }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("x"));
  EXPECT_THAT(ClassNames(built->schema.fields(1)), ElementsAre("y"));
}

TEST(LabelSchemaBuilderTest, EmptyClassNameIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "" } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes.entries[0]", "CLASS_NAME_EMPTY",
                 "Class names must not be empty");
}

TEST(LabelSchemaBuilderTest, EmptyClassEntryIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries {} }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes.entries[0]", "CLASS_ENTRY_EMPTY",
                 "A class entry must be a class name or a class group");
}

// --- item 20 ---

void ExpectUnsupportedLabelType(const std::string& type) {
  SCOPED_TRACE(type);
  EXPECT_INVALID(Build(Header("label_schema { fields { field: \"gt\" type: \"" + type +
                              "\" classes { entries { name: \"a\" } } } }")),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_UNSUPPORTED",
                 "Field 'gt' has unsupported label type '" + type +
                     "'. The 'darwin' backend supports " + kSupportedTypes);
}

TEST(LabelSchemaBuilderTest, InstancesTypeIsAccepted) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "gt"
                                     type: "instances"
                                     classes { entries { name: "a" } }
                                   }
                                 })pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "instances");
}

TEST(LabelSchemaBuilderTest, NewSegmentationFieldNeedsMaskTargets) {
  EXPECT_INVALID(
      Build(Header(R"pb(label_schema { fields { field: "gt" type: "segmentation" } })pb")),
      "header.label_schema.fields[0].mask_targets", "MASK_TARGETS_INVALID",
      "You must provide mask targets for new label field 'gt'");
}

TEST(LabelSchemaBuilderTest, SegmentationClassesAreTheMaskTargets) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "gt"
                                     type: "segmentation"
                                     mask_targets { key: 0 value: "background" }
                                     mask_targets { key: 9 value: "sky" }
                                     mask_targets { key: 2 value: "road" }
                                   }
                                 })pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_THAT(ClassNames(f), ElementsAre("road", "sky"));
  EXPECT_EQ(f.mask_targets().size(), 3u);
  EXPECT_THAT(f.attributes().specs().specs(), IsEmpty());
}

TEST(LabelSchemaBuilderTest, SegmentationTargetsNameDistinctClasses) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "segmentation"
                                       mask_targets { key: 1 value: "sky" }
                                       mask_targets { key: 2 value: "sky" }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].mask_targets", "MASK_TARGETS_INVALID",
                 "Field 'gt' mask target 2 -> 'sky': targets map pixel values 1 to 65535 to "
                 "distinct, non-empty class names (not '__raster_layer__')");
}

TEST(LabelSchemaBuilderTest, OneSegmentationFieldPerRunOnImagesOnly) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "a"
                                       type: "segmentation"
                                       mask_targets { key: 1 value: "x" }
                                     }
                                     fields {
                                       field: "b"
                                       type: "segmentation"
                                       mask_targets { key: 1 value: "x" }
                                     }
                                   })pb")),
                 "header.label_schema.fields[1].type", "SEGMENTATION_FIELD_UNSUPPORTED",
                 "Field 'b': V7 holds one raster layer per image, so a run can annotate one "
                 "segmentation field");
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "frames.a"
                                       type: "segmentation"
                                       mask_targets { key: 1 value: "x" }
                                     }
                                   })pb"),
                       v1::MEDIA_TYPE_VIDEO),
                 "header.label_schema.fields[0].field", "SEGMENTATION_FIELD_UNSUPPORTED",
                 "Field 'frames.a': the darwin backend annotates segmentations of images only, "
                 "not of video frames");
}

TEST(LabelSchemaBuilderTest, ScalarTypeIsRejected) { ExpectUnsupportedLabelType("scalar"); }
TEST(LabelSchemaBuilderTest, UnknownTypeIsRejected) { ExpectUnsupportedLabelType("boxes"); }

TEST(LabelSchemaBuilderTest, ExistingDetectionsFieldCanBeAnnotatedAsInstances) {
  auto built = Build(Header(R"pb(
    existing_fields { field: "gt" document_type: "Detections" }
    label_schema { fields { field: "gt" type: "instances" } }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "instances");
}

TEST(LabelSchemaBuilderTest, ExistingSegmentationFieldGetsFiftyOnesDefaultTargets) {
  auto built = Build(Header(R"pb(
    existing_fields { field: "seg" document_type: "Segmentation" }
    label_schema { fields { field: "seg" } }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_EQ(f.type(), "segmentation");
  EXPECT_EQ(f.mask_targets().size(), 256u);
  EXPECT_EQ(f.mask_targets().at(0), "background");
  EXPECT_EQ(f.mask_targets().at(255), "255");
  EXPECT_EQ(f.classes().entries_size(), 255);
  EXPECT_TRUE(f.allow_spatial_edits());
  EXPECT_FALSE(f.has_allow_label_edits());
}

TEST(LabelSchemaBuilderTest, ExistingFieldOfUnknownClassIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "heat" document_type: "Heatmap" }
                   label_schema { fields { field: "heat" } }
                 )pb")),
                 "header.label_schema.fields[0]", "FIELD_TYPE_UNSUPPORTED",
                 "Field 'heat' has unsupported type Heatmap");
}

TEST(LabelSchemaBuilderTest, ExistingScalarFieldIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "score" document_type: "FloatField" }
                   label_schema { fields { field: "score" } }
                 )pb")),
                 "header.label_schema.fields[0]", "FIELD_SCALAR_UNSUPPORTED",
                 "Field 'score' has unsupported scalar type FloatField. The 'darwin' backend "
                 "supports []");
}

TEST(LabelSchemaBuilderTest, DuplicateExistingFieldIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "gt" document_type: "Detections" }
                   existing_fields { field: "gt" document_type: "Detections" }
                   label_schema { fields { field: "gt" } }
                 )pb")),
                 "header.existing_fields[1].field", "EXISTING_FIELD_INVALID",
                 "Existing field 'gt' is empty or listed twice");
}

// --- item 21 ---

TEST(LabelSchemaBuilderTest, TypeMismatchWithSingleCandidateIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "cls" document_type: "Classification" }
                   label_schema { fields { field: "cls" type: "detections" } }
                 )pb")),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_MISMATCH",
                 "Manually reported label type 'detections' for existing field 'cls' does not "
                 "match its actual type 'classification'");
}

TEST(LabelSchemaBuilderTest, TypeMismatchWithSeveralCandidatesIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "gt" document_type: "Detections" }
                   label_schema { fields { field: "gt" type: "polylines" } }
                 )pb")),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_MISMATCH",
                 "Manually reported label type 'polylines' for existing field 'gt' does not "
                 "match its actual type '['detections', 'instances']'");
}

// --- items 22-24 ---

TEST(LabelSchemaBuilderTest, ExistingSingleTypeFieldsAreInferred) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Classification", "classification"},
      {"Classifications", "classifications"},
      {"Keypoint", "keypoint"},
      {"Keypoints", "keypoints"},
  };
  for (const auto& [doc, type] : cases) {
    SCOPED_TRACE(doc);
    auto built = Build(Header("existing_fields { field: \"f\" document_type: \"" + doc +
                              "\" } label_schema { fields { field: \"f\" } }"));
    ASSERT_TRUE(built.ok()) << built.status();
    EXPECT_EQ(built->schema.fields(0).type(), type);
    EXPECT_THAT(built->warnings, IsEmpty());
  }
}

TEST(LabelSchemaBuilderTest, ExistingDetectionsInferDetectionsAndDropMaskedLabels) {
  std::vector<v1::Sample> samples = {ImageWith("s1", "gt", testing::CatAndMaskedDog())};
  auto built = Build(Header(R"pb(
                       existing_fields { field: "gt" document_type: "Detections" }
                       label_schema { fields { field: "gt" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "detections");
  EXPECT_THAT(built->warnings,
              ElementsAre("Found existing field 'gt' with multiple types ['detections', "
                          "'instances']. Only the 'detections' will be annotated"));
  const auto& dets = samples[0].fields(0).value().detections().detections();
  ASSERT_EQ(dets.size(), 1);
  EXPECT_EQ(dets[0].id(), "d1");
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("cat"));
}

TEST(LabelSchemaBuilderTest, ExistingDetectionInfersDetectionWithWarning) {
  auto built = Build(Header(R"pb(
    existing_fields { field: "box" document_type: "Detection" }
    label_schema { fields { field: "box" } }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "detection");
  EXPECT_THAT(built->warnings,
              ElementsAre("Found existing field 'box' with multiple types ['detection', "
                          "'instance']. Only the 'detection' will be annotated"));
}

TEST(LabelSchemaBuilderTest, ExistingPolylinesInferPolygonsAndKeepOnlyFilled) {
  std::vector<v1::Sample> samples = {ImageWith("s1", "lines", R"pb(polylines {
                                                                     polylines {
                                                                       id: "p1"
                                                                       label: "road"
                                                                       filled: true
                                                                       closed: true
                                                                       points {
                                                                         points { x: 0 y: 0 }
                                                                         points { x: 1 y: 1 }
                                                                       }
                                                                     }
                                                                     polylines {
                                                                       id: "p2"
                                                                       label: "lane"
                                                                       points {
                                                                         points { x: 0 y: 0 }
                                                                         points { x: 1 y: 1 }
                                                                       }
                                                                     }
                                                                   })pb")};
  auto built = Build(Header(R"pb(
                       existing_fields { field: "lines" document_type: "Polylines" }
                       label_schema { fields { field: "lines" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "polygons");
  EXPECT_THAT(built->warnings,
              ElementsAre("Found existing field 'lines' with multiple types ['polygons', "
                          "'polylines']. Only the 'polygons' will be annotated"));
  const auto& lines = samples[0].fields(0).value().polylines().polylines();
  ASSERT_EQ(lines.size(), 1);
  EXPECT_EQ(lines[0].id(), "p1");
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("road"));
}

TEST(LabelSchemaBuilderTest, ExplicitPolylinesKeepOnlyOpenPolylinesWithoutWarning) {
  std::vector<v1::Sample> samples = {ImageWith("s1", "lines", R"pb(polylines {
                                                                     polylines {
                                                                       id: "p1"
                                                                       label: "road"
                                                                       filled: true
                                                                       points {
                                                                         points { x: 0 y: 0 }
                                                                         points { x: 1 y: 1 }
                                                                       }
                                                                     }
                                                                     polylines {
                                                                       id: "p2"
                                                                       label: "lane"
                                                                       points {
                                                                         points { x: 0 y: 0 }
                                                                         points { x: 1 y: 1 }
                                                                       }
                                                                     }
                                                                   })pb")};
  auto built = Build(Header(R"pb(
                       existing_fields { field: "lines" document_type: "Polylines" }
                       label_schema { fields { field: "lines" type: "polylines" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "polylines");
  EXPECT_THAT(built->warnings, IsEmpty());
  const auto& lines = samples[0].fields(0).value().polylines().polylines();
  ASSERT_EQ(lines.size(), 1);
  EXPECT_EQ(lines[0].id(), "p2");
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("lane"));
}

TEST(LabelSchemaBuilderTest, ClassesAreSortedUnionOfDatasetClassesAndObservedLabels) {
  std::vector<v1::Sample> samples = {
      ImageWith("s1", "cls", R"pb(classification { id: "c1" label: "dog" })pb"),
      ImageWith("s2", "cls", R"pb(classification { id: "c2" label: "cat" })pb")};
  auto built = Build(Header(R"pb(
                       existing_fields {
                         field: "cls"
                         document_type: "Classification"
                         dataset_classes: [ "zebra", "cat" ]
                       }
                       label_schema { fields { field: "cls" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("cat", "dog", "zebra"));
}

// --- item 25 ---

TEST(LabelSchemaBuilderTest, ClassGroupWithoutAttributesIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes {
                                         entries { name: "a" }
                                         entries { group { classes { names: [ "b", "c" ] } } }
                                       }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes.entries[1]", "CLASS_GROUP_INVALID",
                 "Invalid classes dict {'classes': ['b', 'c']}");
}

TEST(LabelSchemaBuilderTest, ClassGroupWithoutClassesIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { group { attributes { infer: true } } } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes.entries[0]", "CLASS_GROUP_INVALID",
                 "Invalid classes dict {'attributes': {...}}");
}

TEST(LabelSchemaBuilderTest, ClassGroupAttributesAreNormalised) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "gt"
                                     type: "detections"
                                     classes {
                                       entries {
                                         group {
                                           classes { names: "car" }
                                           attributes { names { names: "make" } }
                                         }
                                       }
                                     }
                                   }
                                 })pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& group = built->schema.fields(0).classes().entries(0).group();
  EXPECT_THAT(group.classes().names(), ElementsAre("car"));
  ASSERT_EQ(group.attributes().specs().specs_size(), 1);
  EXPECT_EQ(group.attributes().specs().specs(0).name(), "make");
  EXPECT_EQ(group.attributes().specs().specs(0).type(), "text");
}

TEST(LabelSchemaBuilderTest, ClassGroupAttributeErrorsNameTheGroupPath) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes {
                                         entries {
                                           group {
                                             classes { names: "car" }
                                             attributes { specs { specs { name: "make" } } }
                                           }
                                         }
                                       }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].classes.entries[0].attributes.specs[0].type",
                 "ATTRIBUTE_TYPE_MISSING",
                 "Attribute definition {'name': 'make'} is missing a `type` key");
}

// --- items 26-29 ---

// A header whose one field "gt" of `type`, with class "a", has the one
// attribute `spec`.
v1::CreateRunHeader HeaderWithSpec(const std::string& spec,
                                   const std::string& type = "detections") {
  return Header("label_schema { fields { field: \"gt\" type: \"" + type +
                "\" classes { entries { name: \"a\" } } attributes { specs { specs { " + spec +
                " } } } } }");
}

TEST(LabelSchemaBuilderTest, AttributeWithoutTypeIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "color"
                                           values { string_value: "red" })pb")),
                 "header.label_schema.fields[0].attributes.specs[0].type", "ATTRIBUTE_TYPE_MISSING",
                 "Attribute definition {'name': 'color', 'values': ['red']} is missing a `type` "
                 "key");
}

TEST(LabelSchemaBuilderTest, AttributeWithoutNameIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(type: "text")pb")),
                 "header.label_schema.fields[0].attributes.specs[0].name", "ATTRIBUTE_NAME_EMPTY",
                 "Attribute definition {'name': '', 'type': 'text'} has no name");
}

TEST(LabelSchemaBuilderTest, UnsupportedAttributeTypeIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "color" type: "select")pb")),
                 "header.label_schema.fields[0].attributes.specs[0].type",
                 "ATTRIBUTE_TYPE_UNSUPPORTED",
                 "Attribute 'color' has unsupported type 'select'. The 'darwin' backend supports "
                 "types ['text', 'instance_id', 'single_select', 'multi_select']");
}

TEST(LabelSchemaBuilderTest, SingleSelectWithoutValuesIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "color" type: "single_select")pb")),
                 "header.label_schema.fields[0].attributes.specs[0].values",
                 "ATTRIBUTE_VALUES_REQUIRED",
                 "Attribute 'color' of type 'single_select' requires a list of values");
}

TEST(LabelSchemaBuilderTest, MultiSelectWithoutValuesIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "tags2" type: "multi_select")pb")),
                 "header.label_schema.fields[0].attributes.specs[0].values",
                 "ATTRIBUTE_VALUES_REQUIRED",
                 "Attribute 'tags2' of type 'multi_select' requires a list of values");
}

TEST(LabelSchemaBuilderTest, TextAndInstanceIdNeedNoValues) {
  for (const std::string type : {"text", "instance_id"}) {
    SCOPED_TRACE(type);
    auto built = Build(HeaderWithSpec("name: \"note\" type: \"" + type + "\""));
    ASSERT_TRUE(built.ok()) << built.status();
    EXPECT_THAT(AttributeNames(built->schema.fields(0)), ElementsAre("note:" + type));
  }
}

// The types a schema may use are the backend's: another backend's
// capabilities accept and refuse other types, and messages name it.
BackendCapabilities OtherBackend() {
  return {.name = "other",
          .label_types = {"polylines", "classification"},
          .attribute_types = {"checkbox", "text", "radio"},
          .attribute_types_with_values = {"radio"}};
}

absl::StatusOr<BuiltSchema> BuildForOther(const v1::CreateRunHeader& header) {
  std::vector<v1::Sample> samples;
  return BuildLabelSchema(header, v1::MEDIA_TYPE_IMAGE, OtherBackend(), samples);
}

TEST(LabelSchemaBuilderTest, LabelTypesAreTheBackendsCapabilities) {
  const v1::CreateRunHeader detections = Header(R"pb(label_schema {
                                                       fields {
                                                         field: "gt"
                                                         type: "detections"
                                                         classes { entries { name: "a" } }
                                                       }
                                                     })pb");
  ASSERT_TRUE(Build(detections).ok());
  EXPECT_INVALID(BuildForOther(detections), "header.label_schema.fields[0].type",
                 "FIELD_TYPE_UNSUPPORTED",
                 "Field 'gt' has unsupported label type 'detections'. The 'other' backend "
                 "supports ['polylines', 'classification']");
  const v1::CreateRunHeader polylines = Header(R"pb(label_schema {
                                                      fields {
                                                        field: "gt"
                                                        type: "polylines"
                                                        classes { entries { name: "a" } }
                                                      }
                                                    })pb");
  auto built = BuildForOther(polylines);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).type(), "polylines");
}

TEST(LabelSchemaBuilderTest, AttributeTypesAreTheBackendsCapabilities) {
  const v1::CreateRunHeader checkbox = HeaderWithSpec(R"pb(name: "ok" type: "checkbox")pb");
  EXPECT_INVALID(Build(checkbox), "header.label_schema.fields[0].attributes.specs[0].type",
                 "ATTRIBUTE_TYPE_UNSUPPORTED",
                 "Attribute 'ok' has unsupported type 'checkbox'. The 'darwin' backend supports "
                 "types ['text', 'instance_id', 'single_select', 'multi_select']");
  const v1::CreateRunHeader polylines_checkbox =
      HeaderWithSpec(R"pb(name: "ok" type: "checkbox")pb", "polylines");
  auto built = BuildForOther(polylines_checkbox);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(AttributeNames(built->schema.fields(0)), ElementsAre("ok:checkbox"));

  const v1::CreateRunHeader polylines_select =
      HeaderWithSpec(R"pb(name: "c" type: "single_select")pb", "polylines");
  EXPECT_INVALID(BuildForOther(polylines_select),
                 "header.label_schema.fields[0].attributes.specs[0].type",
                 "ATTRIBUTE_TYPE_UNSUPPORTED",
                 "Attribute 'c' has unsupported type 'single_select'. The 'other' backend "
                 "supports types ['checkbox', 'text', 'radio']");
  const v1::CreateRunHeader polylines_radio =
      HeaderWithSpec(R"pb(name: "r" type: "radio")pb", "polylines");
  EXPECT_INVALID(
      BuildForOther(polylines_radio), "header.label_schema.fields[0].attributes.specs[0].values",
      "ATTRIBUTE_VALUES_REQUIRED", "Attribute 'r' of type 'radio' requires a list of values");
}

// A backend may list a type that FiftyOne does not know: core still refuses it.
TEST(LabelSchemaBuilderTest, TypesUnknownToFiftyOneAreRefusedWhateverTheBackendSays) {
  BackendCapabilities backend = OtherBackend();
  backend.label_types.push_back("cuboids");
  std::vector<v1::Sample> samples;
  EXPECT_INVALID(BuildLabelSchema(Header(R"pb(label_schema {
                                                fields {
                                                  field: "gt"
                                                  type: "cuboids"
                                                  classes { entries { name: "a" } }
                                                }
                                              })pb"),
                                  v1::MEDIA_TYPE_IMAGE, backend, samples),
                 "header.label_schema.fields[0].type", "FIELD_TYPE_UNSUPPORTED",
                 "Field 'gt' has unsupported label type 'cuboids'. The 'other' backend supports "
                 "['polylines', 'classification', 'cuboids']");
}

TEST(LabelSchemaBuilderTest, DefaultNotInValuesIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "color"
                                           type: "single_select"
                                           values { string_value: "red" }
                                           values { string_value: "green" }
                                           default_value { string_value: "blue" })pb")),
                 "header.label_schema.fields[0].attributes.specs[0].default_value",
                 "ATTRIBUTE_DEFAULT_NOT_IN_VALUES",
                 "Default value 'blue' for attribute 'color' does not appear in the list of values "
                 "['red', 'green']");
}

TEST(LabelSchemaBuilderTest, DefaultInValuesAndExtraKeysAreKept) {
  auto built = Build(HeaderWithSpec(R"pb(name: "color"
                                         type: "single_select"
                                         values { string_value: "red" }
                                         values { string_value: "green" }
                                         default_value { string_value: "green" }
                                         granularity: "section"
                                         required: true
                                         read_only: true)pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& spec = built->schema.fields(0).attributes().specs().specs(0);
  EXPECT_EQ(spec.default_value().string_value(), "green");
  EXPECT_EQ(spec.values_size(), 2);
  EXPECT_EQ(spec.granularity(), "section");
  EXPECT_TRUE(spec.required());
  EXPECT_TRUE(spec.read_only());
}

TEST(LabelSchemaBuilderTest, ReservedAttributeNameIsRejected) {
  EXPECT_INVALID(Build(HeaderWithSpec(R"pb(name: "label" type: "text")pb")),
                 "header.label_schema.fields[0].attributes", "ATTRIBUTE_NAME_RESERVED",
                 "Attribute name 'label' is reserved: it is a field of FiftyOne labels");
}

TEST(LabelSchemaBuilderTest, ReservedAttributeNameInNameListIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                       attributes { names { names: [ "ok", "bounding_box" ] } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].attributes", "ATTRIBUTE_NAME_RESERVED",
                 "Attribute name 'bounding_box' is reserved: it is a field of FiftyOne labels");
}

TEST(LabelSchemaBuilderTest, DuplicateAttributeNameIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                       attributes { names { names: [ "color", "color" ] } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].attributes", "ATTRIBUTE_DUPLICATE",
                 "Attribute 'color' is defined twice");
}

TEST(LabelSchemaBuilderTest, EmptyAttributeNameInListIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                       attributes { names { names: [ "color", "" ] } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].attributes.names[1]", "ATTRIBUTE_NAME_EMPTY",
                 "Attribute names must not be empty");
}

// --- item 33 and name lists ---

TEST(LabelSchemaBuilderTest, AttributeNameListBecomesTextAttributes) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "gt"
                                     type: "detections"
                                     classes { entries { name: "a" } }
                                     attributes { names { names: [ "color", "make" ] } }
                                   }
                                 })pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(AttributeNames(built->schema.fields(0)), ElementsAre("color:text", "make:text"));
}

TEST(LabelSchemaBuilderTest, InferAttributesYieldsNothingForNewField) {
  auto built = Build(Header(R"pb(
    attributes { infer: true }
    label_schema {
      fields {
        field: "gt"
        type: "detections"
        classes { entries { name: "a" } }
      }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(built->schema.fields(0).attributes().specs().specs(), IsEmpty());
}

TEST(LabelSchemaBuilderTest, InferAttributesYieldsObservedAttributesAsTextForExistingField) {
  std::vector<v1::Sample> samples = {
      ImageWith("s1", "gt", R"pb(detections {
                                   detections {
                                     id: "d1"
                                     label: "cat"
                                     bounding_box: [ 0, 0, 1, 1 ]
                                     attributes {
                                       key: "occluded"
                                       value { bool_value: true }
                                     }
                                     attributes {
                                       key: "color"
                                       value { string_value: "red" }
                                     }
                                     attributes {
                                       key: "note"
                                       value { null_value: NULL_VALUE }
                                     }
                                   }
                                 })pb"),
      ImageWith("s2", "gt", R"pb(detections {
                                   detections {
                                     id: "d2"
                                     label: "cat"
                                     bounding_box: [ 0, 0, 1, 1 ]
                                     attributes {
                                       key: "age"
                                       value { int_value: 3 }
                                     }
                                     attributes {
                                       key: "color"
                                       value { string_value: "blue" }
                                     }
                                   }
                                 })pb")};
  auto built = Build(Header(R"pb(
                       existing_fields { field: "gt" document_type: "Detections" }
                       label_schema { fields { field: "gt" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(AttributeNames(built->schema.fields(0)),
              ElementsAre("color:text", "occluded:text", "age:text"));
}

TEST(LabelSchemaBuilderTest, InferFalseYieldsNoAttributesForExistingField) {
  std::vector<v1::Sample> samples = {ImageWith("s1", "cls", R"pb(classification {
                                                                   id: "c1"
                                                                   label: "cat"
                                                                   attributes {
                                                                     key: "color"
                                                                     value { string_value: "red" }
                                                                   }
                                                                 })pb")};
  auto built = Build(Header(R"pb(
                       attributes { infer: false }
                       existing_fields { field: "cls" document_type: "Classification" }
                       label_schema { fields { field: "cls" } }
                     )pb"),
                     samples);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(built->schema.fields(0).attributes().specs().specs(), IsEmpty());
}

// --- items 30-31: normalised keys ---

TEST(LabelSchemaBuilderTest, NewFieldHasNoAllowKeys) {
  auto built = Build(Header(R"pb(
    allow_additions: false
    label_schema {
      fields {
        field: "gt"
        type: "detections"
        classes { entries { name: "a" } }
        allow_deletions: false
        allow_spatial_edits: false
      }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_TRUE(f.has_existing_field());
  EXPECT_FALSE(f.existing_field());
  EXPECT_FALSE(f.has_allow_additions());
  EXPECT_FALSE(f.has_allow_deletions());
  EXPECT_FALSE(f.has_allow_label_edits());
  EXPECT_FALSE(f.has_allow_spatial_edits());
  EXPECT_FALSE(f.has_allow_index_edits());
  EXPECT_FALSE(f.has_only_keyframes());
}

TEST(LabelSchemaBuilderTest, ExistingImageDetectionsHaveSpatialButNoIndexKeys) {
  auto built = Build(Header(R"pb(
    existing_fields { field: "gt" document_type: "Detections" }
    label_schema { fields { field: "gt" type: "detections" } }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_TRUE(f.existing_field());
  EXPECT_TRUE(f.has_allow_additions() && f.allow_additions());
  EXPECT_TRUE(f.has_allow_deletions() && f.allow_deletions());
  EXPECT_TRUE(f.has_allow_label_edits() && f.allow_label_edits());
  EXPECT_TRUE(f.has_allow_spatial_edits() && f.allow_spatial_edits());
  EXPECT_FALSE(f.has_allow_index_edits());
  EXPECT_FALSE(f.has_only_keyframes());
}

TEST(LabelSchemaBuilderTest, ExistingClassificationHasNoSpatialKey) {
  auto built = Build(Header(R"pb(
    existing_fields { field: "cls" document_type: "Classification" }
    label_schema { fields { field: "cls" } }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_TRUE(f.has_allow_additions());
  EXPECT_TRUE(f.has_allow_deletions());
  EXPECT_TRUE(f.has_allow_label_edits());
  EXPECT_FALSE(f.has_allow_spatial_edits());
  EXPECT_FALSE(f.has_allow_index_edits());
  EXPECT_FALSE(f.has_only_keyframes());
}

TEST(LabelSchemaBuilderTest, ExistingFrameLevelTrackableFieldHasIndexAndKeyframeKeys) {
  v1::Sample video;
  video.set_id("v1");
  video.set_media_type(v1::MEDIA_TYPE_VIDEO);
  auto* sf = video.add_fields();
  sf->set_field("frames.dets");
  auto* frame = sf->add_frames();
  frame->set_frame_number(1);
  *frame->mutable_value() = Parse<v1::FieldValue>(R"pb(detections {
                                                         detections {
                                                           id: "d1"
                                                           label: "car"
                                                           bounding_box: [ 0, 0, 1, 1 ]
                                                           keyframe: true
                                                         }
                                                       })pb");
  std::vector<v1::Sample> samples = {video};
  auto built = Build(Header(R"pb(
                       allow_index_edits: false
                       existing_fields { field: "frames.dets" document_type: "Detections" }
                       label_schema { fields { field: "frames.dets" type: "detections" } }
                     )pb"),
                     samples, v1::MEDIA_TYPE_VIDEO);
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_TRUE(f.has_allow_spatial_edits());
  EXPECT_TRUE(f.has_allow_index_edits());
  EXPECT_FALSE(f.allow_index_edits());
  EXPECT_TRUE(f.has_only_keyframes());
  EXPECT_TRUE(f.only_keyframes());
  EXPECT_THAT(ClassNames(f), ElementsAre("car"));
}

TEST(LabelSchemaBuilderTest, OnlyKeyframesIsFalseWithoutKeyframeLabels) {
  auto built = Build(Header(R"pb(
                       existing_fields { field: "frames.kps" document_type: "Keypoints" }
                       label_schema { fields { field: "frames.kps" } }
                     )pb"),
                     v1::MEDIA_TYPE_VIDEO);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->schema.fields(0).has_only_keyframes());
  EXPECT_FALSE(built->schema.fields(0).only_keyframes());
}

TEST(LabelSchemaBuilderTest, PerFieldAllowFlagsOverrideGlobalOnes) {
  auto built = Build(Header(R"pb(
    allow_deletions: false
    allow_label_edits: false
    existing_fields { field: "a" document_type: "Detections" }
    existing_fields { field: "b" document_type: "Detections" }
    label_schema {
      fields { field: "a" type: "detections" allow_deletions: true allow_additions: false }
      fields { field: "b" type: "detections" }
    }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& a = built->schema.fields(0);
  const auto& b = built->schema.fields(1);
  EXPECT_TRUE(a.allow_deletions());
  EXPECT_FALSE(a.allow_additions());
  EXPECT_FALSE(a.allow_label_edits());
  EXPECT_FALSE(b.allow_deletions());
  EXPECT_TRUE(b.allow_additions());
  EXPECT_FALSE(b.allow_label_edits());
}

TEST(LabelSchemaBuilderTest, ShorthandGlobalFlagsApplyToExistingField) {
  auto built = Build(Header(R"pb(
    label_field: "gt"
    allow_additions: false
    allow_index_edits: false
    existing_fields { field: "gt" document_type: "Classifications" }
  )pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& f = built->schema.fields(0);
  EXPECT_EQ(f.type(), "classifications");
  EXPECT_TRUE(f.has_allow_additions());
  EXPECT_FALSE(f.allow_additions());
  // Non-applicable global flags are dropped silently, not rejected.
  EXPECT_FALSE(f.has_allow_index_edits());
  EXPECT_FALSE(f.has_allow_spatial_edits());
}

TEST(LabelSchemaBuilderTest, ExplicitAllowSpatialEditsOnClassificationIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(
                   existing_fields { field: "cls" document_type: "Classification" }
                   label_schema { fields { field: "cls" allow_spatial_edits: false } }
                 )pb")),
                 "header.label_schema.fields[0].allow_spatial_edits", "ALLOW_FLAG_NOT_APPLICABLE",
                 "allow_spatial_edits does not apply to field 'cls' of type 'classification': its "
                 "labels are not spatial");
}

TEST(LabelSchemaBuilderTest, ExplicitAllowIndexEditsOnImageFieldIsRejected) {
  EXPECT_INVALID(
      Build(Header(R"pb(
        existing_fields { field: "gt" document_type: "Detections" }
        label_schema { fields { field: "gt" type: "detections" allow_index_edits: true } }
      )pb")),
      "header.label_schema.fields[0].allow_index_edits", "ALLOW_FLAG_NOT_APPLICABLE",
      "allow_index_edits does not apply to field 'gt': only frame-level fields of "
      "type detections, polylines or keypoints have tracks");
}

// --- item 34 and media rules ---

TEST(LabelSchemaBuilderTest, VideoSampleLevelSpatialFieldIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb"),
                       v1::MEDIA_TYPE_VIDEO),
                 "header.label_schema.fields[0]", "VIDEO_FIELD_NOT_FRAME_LEVEL",
                 "Invalid label field 'gt'. Spatial labels of type 'detections' being annotated "
                 "on a video must be stored in a frame-level field, i.e., one that starts with "
                 "'frames.'");
}

TEST(LabelSchemaBuilderTest, VideoSampleLevelClassificationFieldIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "scene"
                                       type: "classification"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb"),
                       v1::MEDIA_TYPE_VIDEO),
                 "header.label_schema.fields[0]", "VIDEO_SAMPLE_FIELD_UNSUPPORTED",
                 "Invalid label field 'scene'. Backend 'darwin' does not support annotating "
                 "video fields at a sample-level. Labels must be stored in a frame-level field, "
                 "i.e., one that starts with 'frames.'");
}

TEST(LabelSchemaBuilderTest, VideoFrameLevelFieldIsAccepted) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "frames.gt"
                                     type: "detections"
                                     classes { entries { name: "a" } }
                                   }
                                 })pb"),
                     v1::MEDIA_TYPE_VIDEO);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->schema.fields(0).field(), "frames.gt");
}

TEST(LabelSchemaBuilderTest, FrameFieldOnImagesIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "frames.gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0]", "FRAME_FIELD_ON_IMAGES",
                 "Invalid label field 'frames.gt'. Frame-level fields require video samples, but "
                 "the samples are images");
}

// --- field names ---

TEST(LabelSchemaBuilderTest, DuplicateFieldNameIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "gt"
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                     }
                                     fields {
                                       field: "gt"
                                       type: "keypoints"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[1].field", "FIELD_DUPLICATE",
                 "Label field 'gt' appears twice in the schema");
}

TEST(LabelSchemaBuilderTest, EmptyFieldNameIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].field", "FIELD_NAME_INVALID",
                 "Invalid label field name ''");
}

TEST(LabelSchemaBuilderTest, BareFramesPrefixIsRejected) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "frames."
                                       type: "detections"
                                       classes { entries { name: "a" } }
                                     }
                                   })pb"),
                       v1::MEDIA_TYPE_VIDEO),
                 "header.label_schema.fields[0].field", "FIELD_NAME_INVALID",
                 "Invalid label field name 'frames.'");
}

}  // namespace
}  // namespace labelport::core

namespace labelport::core {
namespace {

// --- bounds ---

v1::CreateRunHeader NewField(const std::string& classes_and_attributes) {
  return Header(R"pb(label_schema { fields { field: "f" type: "detections")pb" +
                classes_and_attributes + " } }");
}

TEST(LabelSchemaBuilderTest, MegabyteClassNameIsRejectedWithAShortMessage) {
  auto header = NewField(R"pb(classes { entries { name: "ok" } })pb");
  header.mutable_label_schema()->mutable_fields(0)->mutable_classes()->add_entries()->set_name(
      std::string(1 << 20, 'c'));
  EXPECT_INVALID(
      Build(header), "header.label_schema.fields[0].classes.entries[1].name", "CLASS_NAME_INVALID",
      "Class name '" + std::string(64, 'c') + "\u2026(1048576 bytes)' is longer than 256 bytes");
}

TEST(LabelSchemaBuilderTest, LongClassNameInAGroupIsRejected) {
  auto header = NewField(R"pb(classes {
                                entries {
                                  group {
                                    classes { names: "a" }
                                    attributes { infer: false }
                                  }
                                }
                              })pb");
  header.mutable_label_schema()
      ->mutable_fields(0)
      ->mutable_classes()
      ->mutable_entries(0)
      ->mutable_group()
      ->mutable_classes()
      ->add_names(std::string(300, 'g'));
  EXPECT_INVALID(
      Build(header), "header.label_schema.fields[0].classes.entries[0].group.classes.names[1]",
      "CLASS_NAME_INVALID",
      "Class name '" + std::string(64, 'g') + "\u2026(300 bytes)' is longer than 256 bytes");
}

TEST(LabelSchemaBuilderTest, TooManyClassesAreRejected) {
  auto header = NewField("");
  auto* classes = header.mutable_label_schema()->mutable_fields(0)->mutable_classes();
  for (int i = 0; i < 10'001; ++i) classes->add_entries()->set_name("c" + std::to_string(i));
  EXPECT_INVALID(Build(header), "header.label_schema.fields[0].classes", "TOO_MANY_CLASSES",
                 "Field 'f' has 10001 classes; at most 10000 are allowed");
}

TEST(LabelSchemaBuilderTest, TooManyInferredClassesAreRejected) {
  auto header = Header(R"pb(label_schema { fields { field: "gt" } }
                            existing_fields { field: "gt" document_type: "Classification" })pb");
  for (int i = 0; i < 10'001; ++i)
    header.mutable_existing_fields(0)->add_dataset_classes("c" + std::to_string(i));
  EXPECT_INVALID(Build(header), "header.existing_fields[0].dataset_classes", "TOO_MANY_CLASSES",
                 "Existing field 'gt' lists 10001 dataset classes; at most 10000 are allowed");
}

TEST(LabelSchemaBuilderTest, AttributeSpecBoundsAreEnforced) {
  auto header =
      NewField(R"pb(classes { entries { name: "a" } }
                    attributes { specs { specs { name: "color" type: "single_select" } } })pb");
  auto* spec = header.mutable_label_schema()
                   ->mutable_fields(0)
                   ->mutable_attributes()
                   ->mutable_specs()
                   ->mutable_specs(0);
  for (int i = 0; i < 1'025; ++i) spec->add_values()->set_int_value(i);
  EXPECT_INVALID(Build(header), "header.label_schema.fields[0].attributes.specs[0].values",
                 "ATTRIBUTE_SPEC_INVALID",
                 "Attribute 'color' has 1025 values; at most 1024 are allowed");
  spec->clear_values();
  spec->set_type(std::string(1 << 20, 't'));
  EXPECT_INVALID(Build(header), "header.label_schema.fields[0].attributes.specs[0].type",
                 "ATTRIBUTE_SPEC_INVALID",
                 "Attribute type '" + std::string(64, 't') +
                     "\u2026(1048576 bytes)' is longer than 256 bytes");
}

TEST(LabelSchemaBuilderTest, TooManyAttributesAreRejected) {
  auto header = NewField(R"pb(classes { entries { name: "a" } })pb");
  auto* names =
      header.mutable_label_schema()->mutable_fields(0)->mutable_attributes()->mutable_names();
  for (int i = 0; i < 257; ++i) names->add_names("n" + std::to_string(i));
  EXPECT_INVALID(Build(header), "header.label_schema.fields[0].attributes.names",
                 "TOO_MANY_ATTRIBUTES",
                 "257 attributes are given; at most 256 are allowed per field");
}

TEST(LabelSchemaBuilderTest, LongFieldNameAndTypeAreQuotedShort) {
  auto header = NewField(R"pb(classes { entries { name: "a" } })pb");
  header.mutable_label_schema()->mutable_fields(0)->set_field(std::string(1000, 'f'));
  EXPECT_INVALID(Build(header), "header.label_schema.fields[0].field", "FIELD_NAME_INVALID",
                 "Invalid label field name '" + std::string(64, 'f') + "\u2026(1000 bytes)'");
  header.mutable_label_schema()->mutable_fields(0)->set_field("f");
  header.mutable_label_schema()->mutable_fields(0)->set_type(std::string(1000, 't'));
  EXPECT_INVALID(
      Build(header), "header.label_schema.fields[0].type", "FIELD_TYPE_UNSUPPORTED",
      "Field 'f' has unsupported label type '" + std::string(64, 't') + "\u2026(1000 bytes)'");
}

TEST(LabelSchemaBuilderTest, TooManyFieldsAreRejected) {
  v1::CreateRunHeader header = Header("");
  for (int i = 0; i < 257; ++i) {
    auto* f = header.mutable_label_schema()->add_fields();
    f->set_field("f" + std::to_string(i));
    f->set_type("classification");
    f->mutable_classes()->add_entries()->set_name("a");
  }
  EXPECT_INVALID(Build(header), "header.label_schema.fields", "TOO_MANY_FIELDS",
                 "The label schema has 257 fields; at most 256 are allowed");
}

}  // namespace
}  // namespace labelport::core

namespace labelport::core {
namespace {

// --- batches (LabelSchemaBuilder) ---

v1::CreateRunHeader ExistingDetections() {
  return Header(R"pb(label_schema { fields { field: "gt" } }
                     existing_fields { field: "gt" document_type: "Detections" })pb");
}

v1::Sample WithBox(const std::string& id, const std::string& label,
                   const std::vector<std::string>& attributes = {}) {
  v1::Sample s = ImageWith(id, "gt", R"pb(detections {})pb");
  auto* d = s.mutable_fields(0)->mutable_value()->mutable_detections()->add_detections();
  d->set_id(id + "-d");
  d->set_label(label);
  for (double v : {0.1, 0.1, 0.2, 0.2}) d->add_bounding_box(v);
  for (const auto& a : attributes) (*d->mutable_attributes())[a].set_bool_value(true);
  return s;
}

TEST(LabelSchemaBuilderTest, ObservationsSpanBatchesInArrivalOrder) {
  auto builder =
      LabelSchemaBuilder::Create(ExistingDetections(), v1::MEDIA_TYPE_IMAGE, DarwinCapabilities());
  ASSERT_TRUE(builder.ok()) << builder.status();
  EXPECT_EQ(builder->fields().fields(0).type(), "detections");
  std::vector<v1::Sample> first = {WithBox("a", "dog", {"zeta"})};
  std::vector<v1::Sample> second = {WithBox("b", "cat", {"alpha", "zeta"})};
  ASSERT_TRUE(builder->Observe(first).ok());
  ASSERT_TRUE(builder->Observe(second).ok());
  auto built = builder->Finish();
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(ClassNames(built->schema.fields(0)), ElementsAre("cat", "dog"));
  // First appearance across batches: "zeta" (batch 1) before "alpha" (batch 2).
  EXPECT_THAT(AttributeNames(built->schema.fields(0)), ElementsAre("zeta:text", "alpha:text"));
}

TEST(LabelSchemaBuilderTest, InferredClassesAreBoundedWhileObserved) {
  auto builder =
      LabelSchemaBuilder::Create(ExistingDetections(), v1::MEDIA_TYPE_IMAGE, DarwinCapabilities());
  ASSERT_TRUE(builder.ok()) << builder.status();
  std::vector<v1::Sample> batch;
  for (int i = 0; i < 10'001; ++i)
    batch.push_back(WithBox("s" + std::to_string(i), "c" + std::to_string(i)));
  EXPECT_INVALID(
      builder->Observe(batch), "header.label_schema.fields[0].classes", "TOO_MANY_CLASSES",
      "The labels of field 'gt' have more than 10000 distinct classes; at most 10000 are "
      "allowed (give the classes explicitly)");
}

TEST(LabelSchemaBuilderTest, GivenClassesAreNotGatheredFromLabels) {
  auto header = ExistingDetections();
  header.mutable_label_schema()->mutable_fields(0)->mutable_classes()->add_entries()->set_name(
      "cat");
  auto builder = LabelSchemaBuilder::Create(header, v1::MEDIA_TYPE_IMAGE, DarwinCapabilities());
  ASSERT_TRUE(builder.ok()) << builder.status();
  std::vector<v1::Sample> batch;
  for (int i = 0; i < 10'001; ++i)
    batch.push_back(WithBox("s" + std::to_string(i), "c" + std::to_string(i)));
  EXPECT_TRUE(builder->Observe(batch).ok());
}

}  // namespace
}  // namespace labelport::core

namespace labelport::core {
namespace {

TEST(LabelSchemaBuilderSkeletonTest, KeypointFieldsKeepTheirSkeleton) {
  auto built = Build(Header(R"pb(label_schema {
                                   fields {
                                     field: "pose"
                                     type: "keypoints"
                                     classes { entries { name: "person" } }
                                     skeleton {
                                       labels: [ "head", "hip" ]
                                       edges { nodes: [ 0, 1 ] }
                                     }
                                   }
                                 })pb"));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(built->schema.fields(0).skeleton().labels(), ElementsAre("head", "hip"));
  EXPECT_EQ(built->schema.fields(0).skeleton().edges_size(), 1);
}

TEST(LabelSchemaBuilderSkeletonTest, SkeletonLabelsAreDistinct) {
  EXPECT_INVALID(Build(Header(R"pb(label_schema {
                                     fields {
                                       field: "pose"
                                       type: "keypoints"
                                       classes { entries { name: "person" } }
                                       skeleton { labels: [ "head", "head" ] }
                                     }
                                   })pb")),
                 "header.label_schema.fields[0].skeleton", "SKELETON_INVALID",
                 "Field 'pose' skeleton: label 'head' appears twice");
}

}  // namespace
}  // namespace labelport::core
