#include "service/core/label_types.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::core {
namespace {

using ValueCase = labelport::v1::FieldValue::ValueCase;
using ::testing::ElementsAre;
using ::testing::Optional;

TEST(LabelTypesTest, ReturnTypesFollowTheSpecTable) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"classification", "classifications"},
      {"classifications", "classifications"},
      {"detection", "detections"},
      {"detections", "detections"},
      {"instance", "detections"},
      {"instances", "detections"},
      {"polyline", "polylines"},
      {"polylines", "polylines"},
      {"polygon", "polylines"},
      {"polygons", "polylines"},
      {"keypoint", "keypoints"},
      {"keypoints", "keypoints"},
      {"segmentation", "segmentation"},
      {"scalar", "scalar"},
  };
  for (const auto& [type, ret] : table) {
    SCOPED_TRACE(type);
    EXPECT_THAT(ReturnTypeOf(type), Optional(ret));
  }
  EXPECT_EQ(ReturnTypeOf("boxes"), std::nullopt);
}

TEST(LabelTypesTest, ReturnTypeProperties) {
  for (const char* r : {"classifications", "detections", "polylines", "keypoints"})
    EXPECT_TRUE(ReturnTypeHasLabel(r)) << r;
  EXPECT_FALSE(ReturnTypeHasLabel("segmentation"));
  EXPECT_FALSE(ReturnTypeHasLabel("scalar"));
  for (const char* r : {"detections", "polylines", "keypoints", "segmentation"})
    EXPECT_TRUE(ReturnTypeIsSpatial(r)) << r;
  EXPECT_FALSE(ReturnTypeIsSpatial("classifications"));
  EXPECT_FALSE(ReturnTypeIsSpatial("scalar"));
}

TEST(LabelTypesTest, TrackableFieldsAreFrameLevelSpatialNonSegmentation) {
  EXPECT_TRUE(IsFrameField("frames.dets"));
  EXPECT_FALSE(IsFrameField("dets"));
  EXPECT_FALSE(IsFrameField("frames"));
  EXPECT_TRUE(IsTrackable("frames.dets", "detections"));
  EXPECT_TRUE(IsTrackable("frames.lines", "polylines"));
  EXPECT_TRUE(IsTrackable("frames.kps", "keypoints"));
  EXPECT_FALSE(IsTrackable("frames.cls", "classifications"));
  EXPECT_FALSE(IsTrackable("frames.seg", "segmentation"));
  EXPECT_FALSE(IsTrackable("dets", "detections"));
}

TEST(LabelTypesTest, CandidateTypesOfDocumentClasses) {
  EXPECT_THAT(CandidateTypesOf("Detection"), Optional(ElementsAre("detection", "instance")));
  EXPECT_THAT(CandidateTypesOf("Detections"), Optional(ElementsAre("detections", "instances")));
  EXPECT_THAT(CandidateTypesOf("Polyline"), Optional(ElementsAre("polygon", "polyline")));
  EXPECT_THAT(CandidateTypesOf("Polylines"), Optional(ElementsAre("polygons", "polylines")));
  EXPECT_THAT(CandidateTypesOf("Classification"), Optional(ElementsAre("classification")));
  EXPECT_THAT(CandidateTypesOf("Classifications"), Optional(ElementsAre("classifications")));
  EXPECT_THAT(CandidateTypesOf("Keypoint"), Optional(ElementsAre("keypoint")));
  EXPECT_THAT(CandidateTypesOf("Keypoints"), Optional(ElementsAre("keypoints")));
  EXPECT_THAT(CandidateTypesOf("Segmentation"), Optional(ElementsAre("segmentation")));
  EXPECT_EQ(CandidateTypesOf("Heatmap"), std::nullopt);
  EXPECT_EQ(CandidateTypesOf("detections"), std::nullopt);
}

TEST(LabelTypesTest, ScalarDocumentTypes) {
  for (const char* t : {"IntField", "FloatField", "StringField", "BooleanField", "DateField",
                        "DateTimeField", "ObjectIdField", "ListField"})
    EXPECT_TRUE(IsScalarDocumentType(t)) << t;
  EXPECT_FALSE(IsScalarDocumentType("Detections"));
  EXPECT_FALSE(IsScalarDocumentType(""));
}

TEST(LabelTypesTest, FieldValueCasesAndDocumentNames) {
  const std::vector<std::tuple<std::string, ValueCase, std::string>> table = {
      {"classification", ValueCase::kClassification, "Classification"},
      {"classifications", ValueCase::kClassifications, "Classifications"},
      {"detection", ValueCase::kDetection, "Detection"},
      {"instance", ValueCase::kDetection, "Detection"},
      {"detections", ValueCase::kDetections, "Detections"},
      {"instances", ValueCase::kDetections, "Detections"},
      {"polyline", ValueCase::kPolyline, "Polyline"},
      {"polygon", ValueCase::kPolyline, "Polyline"},
      {"polylines", ValueCase::kPolylines, "Polylines"},
      {"polygons", ValueCase::kPolylines, "Polylines"},
      {"keypoint", ValueCase::kKeypoint, "Keypoint"},
      {"keypoints", ValueCase::kKeypoints, "Keypoints"},
  };
  for (const auto& [type, value_case, doc] : table) {
    SCOPED_TRACE(type);
    EXPECT_EQ(FieldValueCaseOf(type), value_case);
    EXPECT_EQ(DocumentTypeName(value_case), doc);
  }
  EXPECT_EQ(FieldValueCaseOf("segmentation"), ValueCase::kSegmentation);
  EXPECT_EQ(DocumentTypeName(ValueCase::kSegmentation), "Segmentation");
  EXPECT_EQ(FieldValueCaseOf("scalar"), ValueCase::VALUE_NOT_SET);
  EXPECT_EQ(DocumentTypeName(ValueCase::VALUE_NOT_SET), "None");
}

TEST(LabelTypesTest, PyListRendersPythonListLiteral) {
  EXPECT_EQ(PyList({}), "[]");
  EXPECT_EQ(PyList({"a"}), "['a']");
  EXPECT_EQ(PyList({"a", "b"}), "['a', 'b']");
}

}  // namespace
}  // namespace labelport::core
