// Keypoint skeletons ↔ V7 skeleton classes and annotations: the class
// metadata (nodes named after the skeleton's labels, one edge per consecutive
// pair), the skeleton body, and round trips through a Darwin JSON 2.0 export.
#include "service/backend/darwin/skeleton.h"

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/round_trip_fixture.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using ::testing::IsEmpty;
using testing::Parse;
using ::testing::SizeIs;

constexpr char kSchema[] = R"pb(
  fields {
    field: "pose"
    type: "keypoints"
    classes { entries { name: "person" } }
    skeleton {
      labels: [ "nose", "left eye", "right eye" ]
      edges { nodes: [ 1, 0, 2 ] }
    }
  })pb";

TEST(SkeletonTest, ClassMetadataNamesNodesAndSplitsEdgesIntoPairs) {
  const v1::LabelSchema schema = Parse<v1::LabelSchema>(kSchema);
  EXPECT_EQ(DarwinTypeOfField(schema.fields(0)), "skeleton");
  const json::object metadata = SkeletonClassMetadata(schema.fields(0).skeleton());
  const json::object& skeleton = metadata.at("skeleton").as_object();
  ASSERT_THAT(skeleton.at("nodes").as_array(), SizeIs(3));
  EXPECT_EQ(skeleton.at("nodes").at(1).at("name"), "left eye");
  EXPECT_EQ(json::serialize(skeleton.at("edges")),
            R"([{"from":"left eye","to":"nose"},{"from":"nose","to":"right eye"}])");
  // Without a skeleton (or on video frames) keypoints stay V7 keypoints.
  v1::FieldSchema plain = schema.fields(0);
  plain.clear_skeleton();
  EXPECT_EQ(DarwinTypeOfField(plain), "keypoint");
  v1::FieldSchema frames = schema.fields(0);
  frames.set_field("frames.pose");
  EXPECT_EQ(DarwinTypeOfField(frames), "keypoint");
}

TEST(SkeletonTest, NodesWithoutLabelsAreNamedByIndex) {
  v1::KeypointSkeleton s;
  s.add_labels("a");
  s.add_edges()->add_nodes(0);
  s.mutable_edges(0)->add_nodes(2);
  EXPECT_EQ(SkeletonNodeName(s, 2), "2");
  EXPECT_THAT(SkeletonClassMetadata(s).at("skeleton").at("nodes").as_array(), SizeIs(3));
}

// A 200 x 100 image.
class SkeletonRoundTripTest : public testing::RoundTripFixture {
 protected:
  SkeletonRoundTripTest() : RoundTripFixture(kSchema, {{{"person", "skeleton"}, 3}}, 200, 100) {}

  // The field's value decoded from the export of the stored payload.
  v1::FieldValue Load() {
    v1::FieldValue loaded = RoundTripFixture::Load(ExportedPayload());
    EXPECT_THAT(skipped_, IsEmpty());
    return loaded;
  }
};

// One person of track 2, the left eye not placed.
v1::FieldValue Pose() {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  v1::Keypoint person =
      testing::KeypointLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "person",
                             {{0.5, 0.25}, {kNaN, kNaN}, {0.125, 0.75}}, {0.9, kNaN, 0.5});
  person.set_index(2);
  return testing::KeypointsValue({person});
}

TEST_F(SkeletonRoundTripTest, EachKeypointIsOneSkeletonWithNamedNodes) {
  ASSERT_NO_FATAL_FAILURE(Upload(Pose()));
  ASSERT_THAT(payload_, SizeIs(1));
  EXPECT_EQ(payload_[0].at("annotation_class_id"), 3);
  EXPECT_EQ(json::serialize(payload_[0].at("data").at("skeleton")),
            R"({"nodes":[{"name":"nose","occluded":false,"x":1E2,"y":2.5E1},)"
            R"({"name":"left eye","occluded":true,"x":0E0,"y":0E0},)"
            R"({"name":"right eye","occluded":false,"x":2.5E1,"y":7.5E1}]})");
  EXPECT_EQ(payload_[0].at("data").at("instance_id").at("value"), 2);
}

TEST_F(SkeletonRoundTripTest, UnchangedSkeletonComesBackAsUploaded) {
  const v1::FieldValue pose = Pose();
  ASSERT_NO_FATAL_FAILURE(Upload(pose));
  const v1::FieldValue loaded = Load();
  ASSERT_THAT(loaded.keypoints().keypoints(), SizeIs(1));
  const v1::Keypoint& k = loaded.keypoints().keypoints(0);
  EXPECT_EQ(k.id(), "aaaaaaaaaaaaaaaaaaaaaaaa");
  ASSERT_THAT(k.points(), SizeIs(3));
  EXPECT_EQ(k.points(0).x(), 0.5);
  EXPECT_TRUE(std::isnan(k.points(1).x()));
  EXPECT_EQ(k.points(2).y(), 0.75);
  ASSERT_THAT(k.confidence(), SizeIs(3));
  EXPECT_EQ(k.confidence(0), 0.9);
  EXPECT_EQ(k.index(), 2);
}

TEST_F(SkeletonRoundTripTest, MovedAndOccludedNodesComeBackByName) {
  ASSERT_NO_FATAL_FAILURE(Upload(Pose()));
  // The annotator drags the nose, places the left eye and hides the right
  // eye; V7 lists the nodes in its own order.
  payload_[0].as_object()["data"].as_object()["skeleton"] = json::object{
      {"nodes",
       json::array{json::object{{"name", "right eye"}, {"occluded", true}, {"x", 1}, {"y", 1}},
                   json::object{{"name", "left eye"}, {"occluded", false}, {"x", 50}, {"y", 50}},
                   json::object{{"name", "nose"}, {"occluded", false}, {"x", 20}, {"y", 10}}}}};
  const v1::Keypoint k = Load().keypoints().keypoints(0);
  EXPECT_EQ(k.id(), "aaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(k.points(0).x(), 0.1);
  EXPECT_EQ(k.points(0).y(), 0.1);
  EXPECT_EQ(k.points(1).x(), 0.25);
  EXPECT_EQ(k.points(1).y(), 0.5);
  EXPECT_TRUE(std::isnan(k.points(2).x()));
}

}  // namespace
}  // namespace labelport::backend::darwin
