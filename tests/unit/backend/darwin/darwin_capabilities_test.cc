#include "service/backend/darwin/darwin_capabilities.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

using ::testing::ElementsAre;

TEST(DarwinCapabilitiesTest, NamedDarwin) { EXPECT_EQ(DarwinCapabilities().name, "darwin"); }

TEST(DarwinCapabilitiesTest, LabelTypesInFiftyOneOrder) {
  const BackendCapabilities& darwin = DarwinCapabilities();
  EXPECT_THAT(darwin.label_types,
              ElementsAre("classification", "classifications", "detection", "detections",
                          "instance", "instances", "polygon", "polygons", "polyline", "polylines",
                          "keypoint", "keypoints", "segmentation"));
  for (const char* type : {"scalar", "Detections", "cuboids", ""}) {
    SCOPED_TRACE(type);
    EXPECT_FALSE(darwin.SupportsLabelType(type));
  }
  EXPECT_TRUE(darwin.SupportsLabelType("polylines"));
}

TEST(DarwinCapabilitiesTest, AttributeTypes) {
  const BackendCapabilities& darwin = DarwinCapabilities();
  EXPECT_THAT(darwin.attribute_types,
              ElementsAre("text", "instance_id", "single_select", "multi_select"));
  EXPECT_FALSE(darwin.SupportsAttributeType("select"));
  EXPECT_FALSE(darwin.SupportsAttributeType("checkbox"));
  EXPECT_FALSE(darwin.AttributeTypeRequiresValues("text"));
  EXPECT_FALSE(darwin.AttributeTypeRequiresValues("instance_id"));
  EXPECT_TRUE(darwin.AttributeTypeRequiresValues("single_select"));
  EXPECT_TRUE(darwin.AttributeTypeRequiresValues("multi_select"));
}

}  // namespace
}  // namespace labelport::backend::darwin
