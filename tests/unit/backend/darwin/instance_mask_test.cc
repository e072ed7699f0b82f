// Instance masks ↔ V7 polygons: the traced polygon covers exactly the mask's
// pixels (even-odd at pixel centres), and round trips through a Darwin JSON
// 2.0 export give unchanged instances back pixel for pixel and edited polygons
// back as their rasterisation.
#include "service/backend/darwin/instance_mask.h"

#include <boost/json.hpp>
#include <cstdint>
#include <random>
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
using ::testing::SizeIs;

// A detection at pixel box (x, y, w, h) of a width x height image, with a
// w x h mask of `pixels` (row-major, non-zero inside).
v1::Detection Instance(int x, int y, int w, int h, const std::string& pixels, int width,
                       int height) {
  v1::Detection d;
  d.set_id("aaaaaaaaaaaaaaaaaaaaaaaa");
  d.set_label("person");
  d.add_bounding_box(static_cast<double>(x) / width);
  d.add_bounding_box(static_cast<double>(y) / height);
  d.add_bounding_box(static_cast<double>(w) / width);
  d.add_bounding_box(static_cast<double>(h) / height);
  d.set_has_mask(true);
  d.mutable_instance_mask()->set_width(w);
  d.mutable_instance_mask()->set_height(h);
  d.mutable_instance_mask()->set_mask(pixels);
  return d;
}

std::string Binary(const std::string& pixels) {
  std::string out = pixels;
  for (char& c : out) c = c != 0 ? 1 : 0;
  return out;
}

TEST(InstanceMaskTest, TracedPolygonRasterisesToTheSameMask) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    const int w = 1 + static_cast<int>(random() % 12), h = 1 + static_cast<int>(random() % 12);
    std::string pixels(static_cast<size_t>(w * h), '\0');
    for (char& p : pixels) p = static_cast<char>(random() % 2 == 0 ? 0 : 255);
    // Corner pixels set: the polygon's extent is the whole box.
    for (int i : {0, w - 1, (h - 1) * w, h * w - 1}) pixels[i] = 1;
    const v1::Detection d = Instance(3, 2, w, h, pixels, 40, 30);
    const PixelPaths paths = TraceInstanceMask(d, 40, 30);
    ASSERT_FALSE(paths.empty());
    v1::Detection back;
    RasterizeInstance(paths, 40, 30, &back);
    EXPECT_EQ(back.instance_mask().width(), static_cast<uint32_t>(w));
    EXPECT_EQ(back.instance_mask().height(), static_cast<uint32_t>(h));
    EXPECT_EQ(back.instance_mask().mask(), Binary(pixels)) << "round " << round;
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(back.bounding_box(i), d.bounding_box(i), 1e-12);
  }
}

TEST(InstanceMaskTest, HolesAndCornerTouchingPartsBecomePaths) {
  // A ring (one hole) and a pixel touching it only at a corner.
  const std::string pixels = std::string("\1\1\1\0", 4) + std::string("\1\0\1\0", 4) +
                             std::string("\1\1\1\0", 4) + std::string("\0\0\0\1", 4);
  const v1::Detection d = Instance(0, 0, 4, 4, pixels, 4, 4);
  const PixelPaths paths = TraceInstanceMask(d, 4, 4);
  EXPECT_THAT(paths, SizeIs(3));
  v1::Detection back;
  RasterizeInstance(paths, 4, 4, &back);
  EXPECT_EQ(back.instance_mask().mask(), Binary(pixels));
}

TEST(InstanceMaskTest, EmptyMaskIsSentAsItsBox) {
  const v1::Detection d = Instance(1, 1, 2, 2, std::string(4, '\0'), 10, 10);
  EXPECT_THAT(TraceInstanceMask(d, 10, 10), IsEmpty());
  const PixelPaths paths = InstancePolygon(d, 10, 10);
  ASSERT_THAT(paths, SizeIs(1));
  EXPECT_THAT(paths[0], SizeIs(4));
}

TEST(InstanceMaskTest, RasterisedMaskIsClippedToTheImage) {
  // A polygon from V7 reaching far outside a 10 x 8 image.
  const PixelPaths paths{{{-1e12, 2}, {1e12, 2}, {1e12, 1e12}, {-1e12, 1e12}}};
  v1::Detection d;
  RasterizeInstance(paths, 10, 8, &d);
  EXPECT_EQ(d.instance_mask().width(), 10u);
  EXPECT_EQ(d.instance_mask().height(), 6u);
  EXPECT_EQ(d.instance_mask().mask(), std::string(60, '\1'));
  EXPECT_THAT(d.bounding_box(), ::testing::ElementsAre(0, 0.25, 1, 0.75));
}

constexpr char kSchema[] = R"pb(
  fields {
    field: "people"
    type: "instances"
    classes { entries { name: "person" } }
  })pb";

// A 20 x 10 image.
class InstanceRoundTripTest : public testing::RoundTripFixture {
 protected:
  InstanceRoundTripTest()
      : RoundTripFixture(kSchema, {{{"person", "polygon"}, 5}}, kWidth, kHeight) {}

  // Uploads the instance `d`: one polygon, `annotation_`.
  void Upload(const v1::Detection& d) {
    ASSERT_NO_FATAL_FAILURE(RoundTripFixture::Upload(testing::DetectionsValue({d})));
    ASSERT_THAT(payload_, SizeIs(1));
    annotation_ = payload_[0].as_object();
  }

  // The field's value decoded from the export of `annotation_`, its polygon
  // in the export's form (`paths`).
  v1::FieldValue Load() {
    const json::object& polygon = annotation_.at("data").at("polygon").as_object();
    json::array paths{polygon.at("path")};
    if (const json::value* more = polygon.if_contains("additional_paths"))
      for (const auto& p : more->as_array()) paths.push_back(p);
    v1::FieldValue loaded = RoundTripFixture::Load(
        json::array{json::object{{"id", annotation_.at("id")},
                                 {"name", "person"},
                                 {"slot_names", json::array{"0"}},
                                 {"polygon", json::object{{"paths", paths}}}}});
    EXPECT_THAT(skipped_, IsEmpty());
    return loaded;
  }

  static constexpr int kWidth = 20;
  static constexpr int kHeight = 10;
  json::object annotation_;
};

TEST_F(InstanceRoundTripTest, UnchangedInstanceComesBackPixelForPixel) {
  // A 3x5 box on a 20x10 image with a 6x10 (finer than the image) uint8 mask.
  std::string pixels(60, '\0');
  for (int i = 0; i < 60; ++i) pixels[i] = (i % 7 == 0 || i / 6 == 4) ? static_cast<char>(200) : 0;
  v1::Detection d = Instance(0, 0, 6, 10, pixels, kWidth, kHeight);
  d.set_bounding_box(0, 0.1);
  d.set_bounding_box(2, 0.15);
  d.set_bounding_box(3, 0.5);
  d.add_tags("t");
  ASSERT_NO_FATAL_FAILURE(Upload(d));
  EXPECT_EQ(annotation_.at("annotation_class_id"), 5);
  v1::FieldValue expected;
  *expected.mutable_detections()->add_detections() = d;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(Load(), expected));
}

TEST_F(InstanceRoundTripTest, EditedPolygonComesBackRasterised) {
  v1::Detection d = Instance(2, 2, 2, 2, std::string(4, '\1'), kWidth, kHeight);
  d.mutable_instance_mask()->set_boolean(true);
  ASSERT_NO_FATAL_FAILURE(Upload(d));
  // The annotator redraws it as a 4 x 2 rectangle at (10, 4) with a notch.
  annotation_["data"].as_object()["polygon"] = json::object{
      {"path", json::array{json::object{{"x", 10}, {"y", 4}}, json::object{{"x", 14}, {"y", 4}},
                           json::object{{"x", 14}, {"y", 6}}, json::object{{"x", 13}, {"y", 6}},
                           json::object{{"x", 13}, {"y", 5}}, json::object{{"x", 10}, {"y", 5}}}}};
  const v1::FieldValue loaded = Load();
  ASSERT_THAT(loaded.detections().detections(), SizeIs(1));
  const v1::Detection& back = loaded.detections().detections(0);
  EXPECT_EQ(back.id(), d.id());
  EXPECT_THAT(back.bounding_box(), ::testing::ElementsAre(0.5, 0.4, 0.2, 0.2));
  EXPECT_EQ(back.instance_mask().width(), 4u);
  EXPECT_EQ(back.instance_mask().height(), 2u);
  EXPECT_EQ(back.instance_mask().mask(), std::string("\1\1\1\1\0\0\0\1", 8));
  EXPECT_TRUE(back.instance_mask().boolean());
}

}  // namespace
}  // namespace labelport::backend::darwin
