// FiftyOne segmentations ↔ V7 raster layers: the dense RLE, the import
// payload, and round trips through a Darwin JSON 2.0 export (the import
// payload turned into the file V7 exports, darwin-api §7.4, §7.10, decoded
// with DecodeDarwinJson and DecodeItem), pixel for pixel.
#include "service/backend/darwin/raster_layer.h"

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/round_trip_fixture.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << "differences:\n" << diff;
  return false;
}

constexpr char kSchema[] = R"pb(
  fields {
    field: "ground_truth"
    type: "segmentation"
    classes {
      entries { name: "road" }
      entries { name: "sky" }
      entries { name: "car" }
    }
    mask_targets { key: 0 value: "background" }
    mask_targets { key: 1 value: "road" }
    mask_targets { key: 2 value: "sky" }
    mask_targets { key: 300 value: "car" }
  }
  fields {
    field: "boxes"
    type: "detections"
    classes { entries { name: "car" } }
  })pb";

v1::Segmentation Mask(const std::string& id, int width, int height,
                      const std::vector<uint16_t>& pixels, int bytes_per_pixel = 1) {
  v1::Segmentation m = MaskFromPixels(pixels, width, height, bytes_per_pixel);
  m.set_id(id);
  return m;
}

TEST(DenseRleTest, EncodesRowMajorRunsAndDecodesThemBack) {
  const std::vector<uint16_t> pixels{0, 0, 0, 1, 1, 0, 0, 0};
  EXPECT_THAT(DenseRle(pixels), ElementsAre(0, 3, 1, 2, 0, 3));
  auto decoded = DecodeDenseRle({0, 3, 1, 2, 0, 3}, 8);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, pixels);
}

TEST(DenseRleTest, RefusesRunsThatDoNotCoverTheTotal) {
  EXPECT_THAT(DecodeDenseRle({0, 3, 1, 2}, 8).status().message(), HasSubstr("covers 5 pixels"));
  EXPECT_THAT(DecodeDenseRle({0, 9}, 8).status().message(), HasSubstr("does not fit"));
  EXPECT_THAT(DecodeDenseRle({0, 0, 1, 8}, 8).status().message(), HasSubstr("does not fit"));
  EXPECT_THAT(DecodeDenseRle({70000, 8}, 8).status().message(), HasSubstr("out of range"));
  EXPECT_EQ(DecodeDenseRle({0, 1}, kMaxRasterPixels + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResizeNearestTest, ScalesByNearestNeighbour) {
  EXPECT_THAT(ResizeNearest({1, 2, 3, 4}, 2, 2, 4, 2), ElementsAre(1, 1, 2, 2, 3, 3, 4, 4));
  EXPECT_THAT(ResizeNearest({1, 1, 2, 2, 3, 3, 4, 4}, 4, 2, 2, 2), ElementsAre(1, 2, 3, 4));
}

TEST(MaskPixelsTest, ReadsUint16LittleEndian) {
  v1::Segmentation m = Mask("m", 2, 1, {1, 300}, 2);
  EXPECT_EQ(m.mask(), std::string("\x01\x00\x2c\x01", 4));
  EXPECT_THAT(MaskPixels(m), ElementsAre(1, 300));
}

// A 4 x 2 image.
class RasterRoundTripTest : public testing::RoundTripFixture {
 protected:
  RasterRoundTripTest()
      : RoundTripFixture(kSchema,
                         {{{"road", "mask"}, 11},
                          {{"sky", "mask"}, 12},
                          {{"car", "mask"}, 13},
                          {{"__raster_layer__", "raster_layer"}, 1}},
                         4, 2) {}

  // Uploads `mask` as the field's value; the stored annotations become the
  // item's export.
  void Upload(const v1::Segmentation& mask) {
    v1::FieldValue value;
    *value.mutable_segmentation() = mask;
    RoundTripFixture::Upload(value);
  }

  json::object& Raster() {
    for (auto& v : payload_)
      if (v.as_object().at("data").as_object().contains("raster_layer"))
        return v.as_object()["data"].as_object()["raster_layer"].as_object();
    ADD_FAILURE() << "no raster layer in the payload";
    static json::object none;
    return none;
  }

  // The field's value decoded from the export of the stored payload.
  v1::FieldValue Load() { return RoundTripFixture::Load(ExportedPayload()); }
};

TEST_F(RasterRoundTripTest, EncodesOneRasterLayerAndOneMaskPerClass) {
  ASSERT_NO_FATAL_FAILURE(Upload(Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {0, 0, 2, 1, 1, 0, 0, 0})));
  ASSERT_THAT(payload_, SizeIs(3));
  const json::object& road = payload_[0].as_object();
  const json::object& sky = payload_[1].as_object();
  EXPECT_EQ(road.at("annotation_class_id"), 11);
  EXPECT_EQ(sky.at("annotation_class_id"), 12);
  EXPECT_EQ(json::serialize(road.at("data")), R"({"mask":{"sparse_rle":null}})");
  const json::object& raster = payload_[2].as_object();
  EXPECT_EQ(raster.at("annotation_class_id"), 1);
  // Raster labels 1, 2 in pixel value order (road = 1, sky = 2).
  EXPECT_EQ(json::serialize(Raster().at("dense_rle")), "[0,2,2,1,1,2,0,3]");
  EXPECT_EQ(Raster().at("total_pixels"), 8);
  const json::object& mapping = Raster().at("mask_annotation_ids_mapping").as_object();
  EXPECT_EQ(mapping.at(road.at("id").as_string()), 1);
  EXPECT_EQ(mapping.at(sky.at("id").as_string()), 2);
  // Every annotation links back to the segmentation.
  ASSERT_THAT(links_, SizeIs(3));
  for (const auto& [id, link] : links_) EXPECT_EQ(link.label_id(), "aaaaaaaaaaaaaaaaaaaaaaaa");
}

TEST_F(RasterRoundTripTest, UnchangedLoadIsPixelExact) {
  const v1::Segmentation mask =
      Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {0, 1, 2, 300, 0, 0, 1, 1}, 2);
  v1::Segmentation tagged = mask;
  tagged.add_tags("checked");
  ASSERT_NO_FATAL_FAILURE(Upload(tagged));
  v1::FieldValue expected;
  *expected.mutable_segmentation() = tagged;
  EXPECT_THAT(Load(), EqualsProto(expected));
  EXPECT_THAT(skipped_, IsEmpty());
}

TEST_F(RasterRoundTripTest, UnchangedLoadKeepsTheMaskSizeAndValuesThatAreNoTargets) {
  // A 2x1 mask on a 4x2 image, with 7 (no target): V7 gets it upscaled, 7
  // as background; the unchanged load returns the original.
  const v1::Segmentation mask = Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 2, 1, {1, 7});
  ASSERT_NO_FATAL_FAILURE(Upload(mask));
  EXPECT_EQ(json::serialize(Raster().at("dense_rle")), "[1,2,0,2,1,2,0,2]");
  v1::FieldValue expected;
  *expected.mutable_segmentation() = mask;
  EXPECT_THAT(Load(), EqualsProto(expected));
}

TEST_F(RasterRoundTripTest, AllBackgroundMaskSendsNothingAndComesBackUnchanged) {
  const v1::Segmentation mask = Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, std::vector<uint16_t>(8, 0));
  ASSERT_NO_FATAL_FAILURE(Upload(mask));
  EXPECT_THAT(payload_, IsEmpty());
  v1::FieldValue expected;
  *expected.mutable_segmentation() = mask;
  EXPECT_THAT(Load(), EqualsProto(expected));
}

TEST_F(RasterRoundTripTest, EditedRasterComesBackEditedUnderTheSameId) {
  ASSERT_NO_FATAL_FAILURE(Upload(Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {0, 0, 1, 1, 0, 0, 1, 1})));
  // The annotator paints the left half of the top row with sky (label 2 of a
  // new mask annotation) and erases the road on the bottom row.
  json::object sky_mask{{"id", "11111111-1111-4111-8111-111111111111"},
                        {"annotation_class_id", 12},
                        {"data", json::object{{"mask", json::object{}}}},
                        {"context_keys", json::object{{"slot_names", json::array{"0"}}}}};
  payload_.emplace_back(std::move(sky_mask));
  Raster()["dense_rle"] = json::array{2, 2, 1, 2, 0, 4};
  Raster()["mask_annotation_ids_mapping"].as_object()["11111111-1111-4111-8111-111111111111"] = 2;
  v1::FieldValue expected;
  *expected.mutable_segmentation() =
      Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {2, 2, 1, 1, 0, 0, 0, 0});
  EXPECT_THAT(Load(), EqualsProto(expected));
}

TEST_F(RasterRoundTripTest, EditOfAResizedMaskComesBackAtTheMaskSize) {
  ASSERT_NO_FATAL_FAILURE(Upload(Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 2, 1, {1, 0})));
  Raster()["dense_rle"] = json::array{1, 4, 0, 4};  // Road over the whole top row only.
  v1::FieldValue expected;
  *expected.mutable_segmentation() = Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 2, 1, {1, 1});
  EXPECT_THAT(Load(), EqualsProto(expected));
}

TEST_F(RasterRoundTripTest, DeletedRasterLayerDeletesTheSegmentation) {
  ASSERT_NO_FATAL_FAILURE(Upload(Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {0, 0, 1, 1, 0, 0, 1, 1})));
  payload_.clear();
  EXPECT_THAT(Load(), EqualsProto(v1::FieldValue()));
}

TEST_F(RasterRoundTripTest, NewRasterLayerBecomesANewSegmentation) {
  // The field was empty; an annotator drew road (spec example, 4x2).
  payload_.emplace_back(json::object{{"id", "4f58cca2-e174-4564-b242-1d17042f1b01"},
                                     {"annotation_class_id", 11},
                                     {"data", json::object{{"mask", json::object{}}}},
                                     {"context_keys", json::object{{"slot_names", {"0"}}}}});
  payload_.emplace_back(json::object{
      {"id", "8596d3bd-d9f1-4663-8cc7-d444e97abb74"},
      {"annotation_class_id", 1},
      {"data",
       json::object{{"raster_layer",
                     json::object{{"dense_rle", {0, 3, 1, 2, 0, 3}},
                                  {"mask_annotation_ids_mapping",
                                   json::object{{"4f58cca2-e174-4564-b242-1d17042f1b01", 1}}},
                                  {"total_pixels", 8}}}}},
      {"context_keys", json::object{{"slot_names", {"0"}}}}});
  v1::Segmentation mask =
      Mask(DerivedLabelId("8596d3bd-d9f1-4663-8cc7-d444e97abb74"), 4, 2, {0, 0, 0, 1, 1, 0, 0, 0});
  v1::FieldValue expected;
  *expected.mutable_segmentation() = mask;
  EXPECT_THAT(Load(), EqualsProto(expected));
}

TEST_F(RasterRoundTripTest, MaskOfAClassThatIsNoTargetIsSkippedAsBackground) {
  payload_.emplace_back(json::object{{"id", "m-1"},
                                     {"annotation_class_id", 99},
                                     {"data", json::object{{"mask", json::object{}}}},
                                     {"context_keys", json::object{{"slot_names", {"0"}}}}});
  class_ids_[{"tree", "mask"}] = 99;
  payload_.emplace_back(json::object{
      {"id", "r-1"},
      {"annotation_class_id", 1},
      {"data", json::object{{"raster_layer",
                             json::object{{"dense_rle", {1, 8}},
                                          {"mask_annotation_ids_mapping", json::object{{"m-1", 1}}},
                                          {"total_pixels", 8}}}}},
      {"context_keys", json::object{{"slot_names", {"0"}}}}});
  const v1::FieldValue loaded = Load();
  EXPECT_EQ(loaded.segmentation().mask(), std::string(8, '\0'));
  ASSERT_THAT(skipped_, SizeIs(1));
  EXPECT_EQ(skipped_[0].annotation_id(), "m-1");
  EXPECT_THAT(skipped_[0].reason(), HasSubstr("'tree' is not a mask target"));
}

TEST_F(RasterRoundTripTest, RasterOfTheWrongSizeIsSkippedAndTheSnapshotKept) {
  const v1::Segmentation mask = Mask("aaaaaaaaaaaaaaaaaaaaaaaa", 4, 2, {0, 0, 1, 1, 0, 0, 1, 1});
  ASSERT_NO_FATAL_FAILURE(Upload(mask));
  Raster()["total_pixels"] = 6;
  Raster()["dense_rle"] = json::array{0, 6};
  v1::FieldValue expected;
  *expected.mutable_segmentation() = mask;
  EXPECT_THAT(Load(), EqualsProto(expected));
  ASSERT_THAT(skipped_, SizeIs(1));
  EXPECT_THAT(skipped_[0].reason(), HasSubstr("total_pixels 6"));
}

}  // namespace
}  // namespace labelport::backend::darwin
