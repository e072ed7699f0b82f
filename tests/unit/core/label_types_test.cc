#include "service/core/label_types.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::core {
namespace {

using ValueCase = labelport::v1::FieldValue::ValueCase;
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

// Each document class, the label types a field of that class may have (in
// CandidateTypesOf's order), and the FieldValue case those types decode to.
TEST(LabelTypesTest, DocumentClassesTheirTypesAndValueCases) {
  struct Case {
    std::string doc;
    std::vector<std::string> types;
    ValueCase value_case;
  };
  const std::vector<Case> table = {
      {"Detection", {"detection", "instance"}, ValueCase::kDetection},
      {"Detections", {"detections", "instances"}, ValueCase::kDetections},
      {"Polyline", {"polygon", "polyline"}, ValueCase::kPolyline},
      {"Polylines", {"polygons", "polylines"}, ValueCase::kPolylines},
      {"Classification", {"classification"}, ValueCase::kClassification},
      {"Classifications", {"classifications"}, ValueCase::kClassifications},
      {"Keypoint", {"keypoint"}, ValueCase::kKeypoint},
      {"Keypoints", {"keypoints"}, ValueCase::kKeypoints},
      {"Segmentation", {"segmentation"}, ValueCase::kSegmentation},
  };
  for (const Case& c : table) {
    SCOPED_TRACE(c.doc);
    EXPECT_THAT(CandidateTypesOf(c.doc), Optional(c.types));
    EXPECT_EQ(DocumentTypeName(c.value_case), c.doc);
    for (const std::string& type : c.types) EXPECT_EQ(FieldValueCaseOf(type), c.value_case) << type;
  }
  EXPECT_EQ(CandidateTypesOf("Heatmap"), std::nullopt);
  EXPECT_EQ(CandidateTypesOf("detections"), std::nullopt);
  EXPECT_EQ(FieldValueCaseOf("scalar"), ValueCase::VALUE_NOT_SET);
  EXPECT_EQ(DocumentTypeName(ValueCase::VALUE_NOT_SET), "None");
}

TEST(LabelTypesTest, ScalarDocumentTypes) {
  for (const char* t : {"IntField", "FloatField", "StringField", "BooleanField", "DateField",
                        "DateTimeField", "ObjectIdField", "ListField"})
    EXPECT_TRUE(IsScalarDocumentType(t)) << t;
  EXPECT_FALSE(IsScalarDocumentType("Detections"));
  EXPECT_FALSE(IsScalarDocumentType(""));
}

TEST(LabelTypesTest, PyListRendersPythonListLiteral) {
  EXPECT_EQ(PyList({}), "[]");
  EXPECT_EQ(PyList({"a"}), "['a']");
  EXPECT_EQ(PyList({"a", "b"}), "['a', 'b']");
}

}  // namespace
}  // namespace labelport::core
