#include "service/core/field_values.h"

#include <string>
#include <vector>

#include "absl/strings/substitute.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/core/test_util.h"

namespace labelport::core {
namespace {

using ::labelport::core::testing::Parse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Ids(const v1::FieldValue& value) {
  std::vector<std::string> out;
  for (const auto& l : LabelsOf(value)) out.emplace_back(l.id);
  return out;
}

v1::AttributeValue Attr(const std::string& text) { return Parse<v1::AttributeValue>(text); }

TEST(FieldValuesTest, LabelsOfEveryCase) {
  // Each label type, alone and as a list of two ("detections { detections
  // {...} detections {...} }").
  for (const char* type : {"classification", "detection", "polyline", "keypoint"}) {
    SCOPED_TRACE(type);
    EXPECT_THAT(Ids(Parse<v1::FieldValue>(absl::Substitute(R"pb($0 { id: "a" })pb", type))),
                ElementsAre("a"));
    EXPECT_THAT(Ids(Parse<v1::FieldValue>(absl::Substitute(
                    R"pb($0s {
                           $0s { id: "a" }
                           $0s { id: "b" }
                         })pb",
                    type))),
                ElementsAre("a", "b"));
  }
  EXPECT_THAT(Ids(v1::FieldValue()), IsEmpty());
}

TEST(FieldValuesTest, LabelViewCarriesLabelMaskFilledKeyframeAndAttributes) {
  const auto dets = Parse<v1::FieldValue>(R"pb(detections {
                                                 detections {
                                                   id: "a"
                                                   label: "cat"
                                                   has_mask: true
                                                   keyframe: false
                                                   attributes {
                                                     key: "k"
                                                     value { int_value: 1 }
                                                   }
                                                 }
                                                 detections { id: "b" label: "dog" }
                                               })pb");
  auto views = LabelsOf(dets);
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].label, "cat");
  EXPECT_TRUE(views[0].has_mask);
  EXPECT_EQ(views[0].keyframe, std::optional<bool>(false));
  ASSERT_NE(views[0].attributes, nullptr);
  EXPECT_EQ(views[0].attributes->at("k").int_value(), 1);
  EXPECT_FALSE(views[1].has_mask);
  EXPECT_EQ(views[1].keyframe, std::nullopt);

  const auto line =
      Parse<v1::FieldValue>(R"pb(polyline { id: "p" filled: true keyframe: true })pb");
  auto pv = LabelsOf(line);
  ASSERT_EQ(pv.size(), 1u);
  EXPECT_TRUE(pv[0].filled);
  EXPECT_EQ(pv[0].keyframe, std::optional<bool>(true));
}

TEST(FieldValuesTest, DetectionsKeepUnmaskedLabels) {
  auto value = Parse<v1::FieldValue>(R"pb(detections {
                                            detections { id: "a" has_mask: true }
                                            detections { id: "b" }
                                            detections { id: "c" has_mask: true }
                                            detections { id: "d" }
                                          })pb");
  FilterForSchemaType("detections", &value);
  EXPECT_THAT(Ids(value), ElementsAre("b", "d"));
}

TEST(FieldValuesTest, InstancesKeepMaskedLabels) {
  auto value = Parse<v1::FieldValue>(R"pb(detections {
                                            detections { id: "a" has_mask: true }
                                            detections { id: "b" }
                                            detections { id: "c" has_mask: true }
                                          })pb");
  FilterForSchemaType("instances", &value);
  EXPECT_THAT(Ids(value), ElementsAre("a", "c"));
}

TEST(FieldValuesTest, PolygonsKeepFilledAndPolylinesKeepOpen) {
  const auto original = Parse<v1::FieldValue>(R"pb(polylines {
                                                     polylines { id: "a" filled: true }
                                                     polylines { id: "b" }
                                                     polylines { id: "c" filled: true }
                                                   })pb");
  auto polygons = original;
  FilterForSchemaType("polygons", &polygons);
  EXPECT_THAT(Ids(polygons), ElementsAre("a", "c"));
  auto polylines = original;
  FilterForSchemaType("polylines", &polylines);
  EXPECT_THAT(Ids(polylines), ElementsAre("b"));
}

TEST(FieldValuesTest, SingleLabelThatDoesNotBelongIsCleared) {
  auto det = Parse<v1::FieldValue>(R"pb(detection { id: "a" has_mask: true })pb");
  FilterForSchemaType("detection", &det);
  EXPECT_EQ(det.value_case(), v1::FieldValue::VALUE_NOT_SET);

  auto kept = Parse<v1::FieldValue>(R"pb(detection { id: "a" })pb");
  FilterForSchemaType("detection", &kept);
  EXPECT_THAT(Ids(kept), ElementsAre("a"));

  auto open = Parse<v1::FieldValue>(R"pb(polyline { id: "p" })pb");
  FilterForSchemaType("polygon", &open);
  EXPECT_EQ(open.value_case(), v1::FieldValue::VALUE_NOT_SET);

  auto filled = Parse<v1::FieldValue>(R"pb(polyline { id: "p" filled: true })pb");
  FilterForSchemaType("polyline", &filled);
  EXPECT_EQ(filled.value_case(), v1::FieldValue::VALUE_NOT_SET);
}

TEST(FieldValuesTest, SingleCandidateTypesKeepEverything) {
  auto value = Parse<v1::FieldValue>(R"pb(classifications {
                                            classifications { id: "a" }
                                            classifications { id: "b" }
                                          })pb");
  FilterForSchemaType("classifications", &value);
  EXPECT_THAT(Ids(value), ElementsAre("a", "b"));
  auto kps = Parse<v1::FieldValue>(R"pb(keypoints { keypoints { id: "a" } })pb");
  FilterForSchemaType("keypoints", &kps);
  EXPECT_THAT(Ids(kps), ElementsAre("a"));
}

TEST(FieldValuesTest, PyReprRendersPythonValues) {
  EXPECT_EQ(PyRepr(Attr("null_value: NULL_VALUE")), "None");
  EXPECT_EQ(PyRepr(Attr("bool_value: true")), "True");
  EXPECT_EQ(PyRepr(Attr("bool_value: false")), "False");
  EXPECT_EQ(PyRepr(Attr("int_value: -3")), "-3");
  EXPECT_EQ(PyRepr(Attr("double_value: 2.5")), "2.5");
  EXPECT_EQ(PyRepr(Attr(R"pb(string_value: "red")pb")), "'red'");
  EXPECT_EQ(PyRepr(Attr(R"pb(list_value {
                               values { int_value: 1 }
                               values { string_value: "a" }
                               values { bool_value: true }
                             })pb")),
            "[1, 'a', True]");
  EXPECT_EQ(PyRepr(v1::AttributeValue()), "None");
}

// Regression test (found by this suite, fixed in service/core).
TEST(FieldValuesTest, PyReprKeepsDecimalPointOfWholeDoubles) {
  EXPECT_EQ(PyRepr(Attr("double_value: 2")), "2.0");
}

TEST(FieldValuesTest, SameValueComparesTypeAndValue) {
  EXPECT_TRUE(SameValue(Attr("int_value: 1"), Attr("int_value: 1")));
  EXPECT_FALSE(SameValue(Attr("int_value: 1"), Attr("int_value: 2")));
  EXPECT_FALSE(SameValue(Attr("int_value: 1"), Attr("double_value: 1")));
  EXPECT_TRUE(SameValue(Attr(R"pb(string_value: "a")pb"), Attr(R"pb(string_value: "a")pb")));
  EXPECT_FALSE(SameValue(Attr(R"pb(string_value: "a")pb"), Attr(R"pb(string_value: "b")pb")));
}

}  // namespace
}  // namespace labelport::core
