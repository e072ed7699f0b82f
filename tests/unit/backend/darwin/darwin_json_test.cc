#include "service/backend/darwin/darwin_json.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

std::string FixturePath(absl::string_view name) {
  return std::string(LP_FIXTURES_DIR) + "/" + std::string(name);
}

// Reads a vendored fixture. A missing or unreadable file is a fatal test
// failure naming the path (never an empty text that later tests index into).
void ReadFixture(absl::string_view name, std::string* text) {
  const std::string path = FixturePath(name);
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing Darwin JSON fixture " << path
                         << " (vendored under tests/fixtures/darwin-json)";
  std::ostringstream out;
  out << in.rdbuf();
  *text = out.str();
  ASSERT_FALSE(text->empty()) << "empty Darwin JSON fixture " << path;
}

// Reads and decodes a fixture into *item; fails fatally when either fails.
// Callers wrap it in ASSERT_NO_FATAL_FAILURE.
void Decode(absl::string_view name, ExportedItem* item) {
  std::string text;
  ASSERT_NO_FATAL_FAILURE(ReadFixture(name, &text));
  absl::StatusOr<ExportedItem> decoded = DecodeDarwinJson(text, name);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  *item = *std::move(decoded);
}

const ExportedAnnotation* ById(const ExportedItem& item, absl::string_view id) {
  for (const ExportedAnnotation& a : item.annotations) {
    if (a.id == id) return &a;
  }
  ADD_FAILURE() << "no annotation " << id;
  return nullptr;
}

MATCHER_P2(IsPoint, x, y, "") { return arg.x == x && arg.y == y; }
MATCHER_P3(IsProperty, name, value, frame_index, "") {
  return arg.name == name && arg.value == value && arg.frame_index == frame_index;
}

// Fixtures that are not decodable Darwin JSON 2.0 item files by design, with
// the error the decoder must give (the others must all decode).
struct ExpectedFailure {
  const char* file;
  const char* message_part;
};
constexpr ExpectedFailure kExpectedFailures[] = {
    // A parser unit-test fixture with neither source_info nor slots.
    {"base_annotation.json", "item.source_info.item_id"},
    // DICOM slots built from a registration payload: no width/height.
    {"multi_slotted_dicom_item.json", "slot '0'"},
    // Not item files: the zip's .v7/metadata.json and an E41 workflow.
    {"metadata_with_item_level_properties.json", "version"},
    {"workflow.json", "version"},
};

TEST(DarwinJsonTest, EveryFixtureDecodesOrFailsAsExpected) {
  ASSERT_TRUE(std::filesystem::is_directory(LP_FIXTURES_DIR))
      << "missing fixture folder " << LP_FIXTURES_DIR;
  int decoded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LP_FIXTURES_DIR)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(name);
    std::string text;
    ASSERT_NO_FATAL_FAILURE(ReadFixture(name, &text));
    absl::StatusOr<ExportedItem> item = DecodeDarwinJson(text, name);
    const ExpectedFailure* expected = nullptr;
    for (const ExpectedFailure& f : kExpectedFailures) {
      if (name == f.file) expected = &f;
    }
    if (expected != nullptr) {
      EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(item.status().message(), HasSubstr(name));
      EXPECT_THAT(item.status().message(), HasSubstr(expected->message_part));
      continue;
    }
    ASSERT_TRUE(item.ok()) << item.status();
    EXPECT_FALSE(item->item_id.empty());
    EXPECT_FALSE(item->slots.empty());
    ++decoded;
  }
  EXPECT_EQ(decoded, 10);
}

TEST(DarwinJsonTest, Image1DecodesEveryImageTypeAndSkipsTheUnsupported) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("image_1.json", &item));
  EXPECT_EQ(item.item_id, "01920b92-1d5d-94a4-6fbe-8a4d7f9fa15d");
  EXPECT_EQ(item.name, "image_1.jpg");
  EXPECT_EQ(item.path, "/");
  ASSERT_THAT(item.slots, SizeIs(1));
  EXPECT_EQ(item.slots[0].slot_name, "0");
  EXPECT_EQ(item.slots[0].type, "image");
  EXPECT_EQ(item.slots[0].width, 1920);
  EXPECT_EQ(item.slots[0].height, 1080);
  EXPECT_EQ(item.Slot(""), &item.slots[0]);
  EXPECT_EQ(item.Slot("0"), &item.slots[0]);
  EXPECT_EQ(item.Slot("7"), nullptr);

  ASSERT_THAT(item.annotations, SizeIs(8));
  const ExportedAnnotation* box = ById(item, "b92626e7-a1fd-4ecb-a418-31aa37069bc1");
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->type, "bounding_box");
  EXPECT_EQ(box->name, "test_bounding_box_with_subtypes_and_properties");
  EXPECT_EQ(box->slot_name, "0");
  EXPECT_EQ(box->bounding_box, (std::vector<double>{280.449, 173.355, 216.693, 58.941}));
  EXPECT_EQ(box->instance_id, 2);
  EXPECT_EQ(box->text, "test_text");
  EXPECT_THAT(box->properties, ElementsAre(IsProperty("multi_select-1", "1", 0),
                                           IsProperty("multi_select-1", "2", 0),
                                           IsProperty("single_select-1", "1", 0),
                                           IsProperty("section-text-1", "Section test", 0),
                                           IsProperty("annotation-text-1", "Annotation test", -1)));

  const ExportedAnnotation* keypoint = ById(item, "de3a1fd0-bff9-4b4a-bffb-b6b92bff18a3");
  ASSERT_NE(keypoint, nullptr);
  EXPECT_EQ(keypoint->type, "keypoint");
  ASSERT_TRUE(keypoint->point.has_value());
  EXPECT_THAT(*keypoint->point, IsPoint(49.6239, 173.4268));
  EXPECT_EQ(keypoint->instance_id, 4);

  const ExportedAnnotation* line = ById(item, "d078cdd0-7ff3-4835-9d5d-f4e0c6a31fa6");
  ASSERT_NE(line, nullptr);
  EXPECT_EQ(line->type, "line");
  ASSERT_THAT(line->paths, SizeIs(1));
  EXPECT_THAT(line->paths[0], ElementsAre(IsPoint(142.624, -0.1339), IsPoint(171.0572, -45.1531),
                                          IsPoint(199.4903, 0.4584)));
  EXPECT_FALSE(line->bounding_box.has_value());

  const ExportedAnnotation* polygon = ById(item, "063cd083-e25a-4f0d-82d9-45d0b3c9dedd");
  ASSERT_NE(polygon, nullptr);
  EXPECT_EQ(polygon->type, "polygon");
  ASSERT_THAT(polygon->paths, SizeIs(1));
  EXPECT_THAT(polygon->paths[0],
              ElementsAre(IsPoint(336.0236, 30.7501), IsPoint(304.7215, 64.8979),
                          IsPoint(383.2613, 66.6052), IsPoint(275.1268, 34.734)));
  EXPECT_EQ(polygon->bounding_box,
            (std::vector<double>{275.1268, 30.7501, 108.1345, 35.85509999999999}));
  EXPECT_EQ(polygon->instance_id, 6);

  const ExportedAnnotation* tag = ById(item, "e59b6d18-88dc-417a-a619-513c634e1402");
  ASSERT_NE(tag, nullptr);
  EXPECT_EQ(tag->type, "tag");
  EXPECT_TRUE(tag->paths.empty());
  EXPECT_FALSE(tag->bounding_box.has_value());
  EXPECT_FALSE(tag->point.has_value());
  EXPECT_EQ(tag->text, "test_text");
  EXPECT_FALSE(tag->instance_id.has_value());

  // V7's own raster layer: runs over the whole 1920 x 1080 slot, label 1 the mask.
  const ExportedAnnotation* mask = ById(item, "4f58cca2-e174-4564-b242-1d17042f1b01");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->type, "mask");
  const ExportedAnnotation* raster = ById(item, "8596d3bd-d9f1-4663-8cc7-d444e97abb74");
  ASSERT_NE(raster, nullptr);
  EXPECT_EQ(raster->type, "raster_layer");
  EXPECT_EQ(raster->name, "__raster_layer__");
  ASSERT_TRUE(raster->raster_layer.has_value());
  EXPECT_EQ(raster->raster_layer->total_pixels, 1920 * 1080);
  EXPECT_THAT(raster->raster_layer->mask_annotation_ids,
              ElementsAre(Pair("4f58cca2-e174-4564-b242-1d17042f1b01", 1)));
  int64_t covered = 0;
  for (size_t i = 1; i < raster->raster_layer->dense_rle.size(); i += 2)
    covered += raster->raster_layer->dense_rle[i];
  EXPECT_EQ(covered, 1920 * 1080);
  const ExportedAnnotation* skeleton = ById(item, "a446a6dc-6427-413f-8f5d-5af0121f0923");
  ASSERT_NE(skeleton, nullptr);
  EXPECT_EQ(skeleton->type, "skeleton");
  ASSERT_THAT(skeleton->nodes, SizeIs(2));
  EXPECT_EQ(skeleton->nodes[0].name, "node");
  EXPECT_DOUBLE_EQ(skeleton->nodes[0].x, 301.369);
  EXPECT_FALSE(skeleton->nodes[0].occluded);

  EXPECT_THAT(item.skipped, ElementsAre(Pair("40288025-5eea-406c-95fb-fd335df117fe",
                                             "unsupported annotation type 'ellipse'")));
}

TEST(DarwinJsonTest, Image2KeepsSectionPropertiesWithoutGlobalOnes) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("image_2.json", &item));
  EXPECT_EQ(item.item_id, "01920b92-1d5d-ea77-8fa4-16378bafedb3");
  const ExportedAnnotation* box = ById(item, "81295639-1b29-4681-b3a8-53119bf49036");
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->bounding_box, (std::vector<double>{280.449, 173.355, 216.693, 58.941}));
  EXPECT_THAT(box->properties, ElementsAre(IsProperty("multi_select-1", "1", 0),
                                           IsProperty("multi_select-1", "2", 0),
                                           IsProperty("single_select-1", "1", 0)));
  EXPECT_THAT(item.annotations, SizeIs(8));
  EXPECT_THAT(item.skipped, SizeIs(1));
}

TEST(DarwinJsonTest, NullPropertyValueIsNullopt) {
  // The ellipse of image_1 carries the null; check the same shape on a box.
  constexpr char kText[] = R"({"version": "2.0",
    "item": {"name": "a.jpg", "path": "/", "source_info": {"item_id": "id-1"},
             "slots": [{"slot_name": "0", "type": "image", "width": 10, "height": 20}]},
    "annotations": [{"id": "a1", "name": "  car ", "slot_names": ["0"],
                     "bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4},
                     "properties": [{"frame_index": "global", "name": "p", "value": null}]}]})";
  absl::StatusOr<ExportedItem> item = DecodeDarwinJson(kText, "a.json");
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_THAT(item->annotations, SizeIs(1));
  EXPECT_EQ(item->annotations[0].name, "car");
  EXPECT_THAT(item->annotations[0].properties,
              ElementsAre(IsProperty("p", std::optional<std::string>(), -1)));
}

TEST(DarwinJsonTest, AnnotationWithPropertiesUsesTheOlderPropertyForm) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("annotation_with_properties.json", &item));
  EXPECT_EQ(item.slots[0].width, 192);
  EXPECT_EQ(item.slots[0].height, 263);
  ASSERT_THAT(item.annotations, SizeIs(3));
  const ExportedAnnotation& a = item.annotations[0];
  EXPECT_EQ(a.id, "3893e60c-436b-47a8-9544-ff60d018a694");
  EXPECT_EQ(a.name, "1");
  EXPECT_EQ(a.type, "polygon");
  EXPECT_EQ(a.bounding_box, (std::vector<double>{101, 89, 3, 12}));
  ASSERT_THAT(a.paths, SizeIs(1));
  EXPECT_THAT(a.paths[0], SizeIs(7));
  EXPECT_THAT(a.paths[0].front(), IsPoint(102, 89));
  EXPECT_EQ(a.text, "hello");
  EXPECT_THAT(a.properties,
              ElementsAre(IsProperty("1.2", "1.2.2", 0), IsProperty("1.1", "1.1.2", 0),
                          IsProperty("1.3", "1.3.1", 0), IsProperty("1.1", "1.1.1", 0),
                          IsProperty("1.2", "1.2.1", 0)));
  EXPECT_THAT(item.skipped, IsEmpty());
}

TEST(DarwinJsonTest, FerrariLegacyPolygonPathWithoutIdOrSlotNames) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("ferrari-laferrari.json", &item));
  EXPECT_EQ(item.item_id, "018c4450-d91d-cbaf-5925-04d541090ad4");
  EXPECT_EQ(item.name, "ferrari-laferrari.jpg");
  EXPECT_EQ(item.slots[0].width, 640);
  EXPECT_EQ(item.slots[0].height, 436);
  ASSERT_THAT(item.annotations, SizeIs(1));
  const ExportedAnnotation& car = item.annotations[0];
  EXPECT_EQ(car.id, "");
  EXPECT_EQ(car.slot_name, "");
  EXPECT_EQ(car.name, "car");
  EXPECT_EQ(car.type, "polygon");
  EXPECT_EQ(car.bounding_box, (std::vector<double>{94, 438, 1711, 546}));
  ASSERT_THAT(car.paths, SizeIs(1));
  ASSERT_GE(car.paths[0].size(), 2u);
  EXPECT_THAT(car.paths[0][0], IsPoint(1805, 577));
  EXPECT_THAT(car.paths[0][1], IsPoint(1803, 596));
}

TEST(DarwinJsonTest, BaseAnnotationShapesOnceGivenAnItemIdentity) {
  // base_annotation.json has no source_info nor slots (a parser fixture);
  // give it both to check its annotations.
  std::string text;
  ASSERT_NO_FATAL_FAILURE(ReadFixture("base_annotation.json", &text));
  json::value v = json::parse(text);
  json::object& item = v.at("item").as_object();
  item["source_info"] = {{"item_id", "base-1"}};
  item["slots"] = json::array{{{"slot_name", "0"}, {"type", "image"}, {"width", 4}, {"height", 4}}};
  absl::StatusOr<ExportedItem> decoded = DecodeDarwinJson(json::serialize(v), "base.json");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_THAT(decoded->annotations, SizeIs(2));
  EXPECT_EQ(decoded->annotations[0].type, "bounding_box");
  EXPECT_EQ(decoded->annotations[0].name, "test_bb");
  EXPECT_EQ(decoded->annotations[0].bounding_box, (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(decoded->annotations[1].type, "polygon");
  EXPECT_EQ(decoded->annotations[1].id, "012dcc6c-5b77-406b-8cd7-d9567c8b00b7");
  ASSERT_THAT(decoded->annotations[1].paths, SizeIs(1));
  EXPECT_THAT(decoded->annotations[1].paths[0],
              ElementsAre(IsPoint(0, 0), IsPoint(1, 0), IsPoint(1, 1), IsPoint(0, 1)));
  EXPECT_THAT(decoded->skipped, ElementsAre(Pair("320a60f2-643b-4d74-a117-0ea2fdfe7a61",
                                                 "unsupported annotation type 'ellipse'")));
}

TEST(DarwinJsonTest, ComplexPolygonSubAnnotationsAndAuthorship) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("0.json", &item));
  ASSERT_THAT(item.annotations, SizeIs(1));
  EXPECT_THAT(item.annotations[0].paths, SizeIs(2));

  constexpr char kText[] = R"({"version": "2.0",
    "item": {"name": "b.jpg", "path": "/d", "source_info": {"item_id": "id-2"},
             "slots": [{"slot_name": "0", "type": "image", "width": 100, "height": 50.5}]},
    "annotations": [{"id": "k1", "name": "nose", "slot_names": ["0"],
                     "keypoint": {"x": 1.5, "y": 2},
                     "inference": {"confidence": 0.75, "model": {"name": "m"}},
                     "attributes": ["occluded", "{'iscrowd': 0}", 3],
                     "annotators": [{"email": "a@x.org", "full_name": "Ann A"},
                                    {"email": "b@x.org", "full_name": ""}],
                     "reviewers": [{"email": "r@x.org"}]}]})";
  absl::StatusOr<ExportedItem> decoded = DecodeDarwinJson(kText, "b.json");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->path, "/d");
  EXPECT_EQ(decoded->slots[0].height, 50.5);
  ASSERT_THAT(decoded->annotations, SizeIs(1));
  const ExportedAnnotation& a = decoded->annotations[0];
  EXPECT_THAT(a.confidence, ::testing::Optional(DoubleEq(0.75)));
  EXPECT_THAT(a.attributes, ElementsAre("occluded", "{'iscrowd': 0}"));
  EXPECT_THAT(a.annotators, ElementsAre("Ann A", "b@x.org"));
  EXPECT_THAT(a.reviewers, ElementsAre("r@x.org"));
}

TEST(DarwinJsonTest, VideoAnnotationsAreSplitIntoOneAnnotationPerFrame) {
  ExportedItem item;
  ASSERT_NO_FATAL_FAILURE(Decode("mini_uct.json", &item));
  EXPECT_EQ(item.slots[0].type, "video");
  EXPECT_EQ(item.slots[0].frame_count, 10);
  EXPECT_EQ(item.slots[0].fps, 1);
  // skeleton (frames 1-3), line (8-9), keypoint (8-9), polygon, box (5-7),
  // mask (4-6), tag (0-2) and the raster layer's keyframes (4-6): every frame
  // of each range, in frame order (masks and raster layers list keyframes only).
  std::vector<std::string> pieces;
  for (const auto& a : item.annotations) pieces.push_back(absl::StrCat(a.type, "@", a.frame));
  EXPECT_THAT(pieces, ElementsAre("skeleton@1", "skeleton@2", "skeleton@3", "line@8", "line@9",
                                  "keypoint@8", "keypoint@9", "polygon@5", "polygon@6", "polygon@7",
                                  "bounding_box@5", "bounding_box@6", "bounding_box@7", "mask@4",
                                  "mask@5", "mask@6", "tag@0", "tag@1", "tag@2", "raster_layer@4",
                                  "raster_layer@5", "raster_layer@6"));
  const ExportedAnnotation& box = item.annotations[10];
  EXPECT_EQ(box.id, "57e9c6dc-50d2-44a6-8dc1-f7ce0ef422ee");
  EXPECT_EQ(box.name, "test_bounding_box_with_subtypes_and_properties");
  EXPECT_TRUE(box.keyframe);
  EXPECT_FALSE(item.annotations[11].keyframe);
  EXPECT_EQ(box.instance_id, 19);
  EXPECT_EQ(box.text, "test_text");
  ASSERT_TRUE(box.bounding_box.has_value());
  EXPECT_DOUBLE_EQ((*box.bounding_box)[0], 20.4902);
  // Ellipses are no FiftyOne labels.
  std::vector<std::string> skipped;
  for (const auto& [id, reason] : item.skipped) skipped.push_back(reason);
  EXPECT_THAT(skipped, ElementsAre("frame 5: unsupported annotation type 'ellipse'"));
}

TEST(DarwinJsonTest, NotJsonIsInvalidArgumentNamingTheFile) {
  absl::StatusOr<ExportedItem> item = DecodeDarwinJson("{not json", "broken.json");
  EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(item.status().message(), HasSubstr("broken.json"));
  EXPECT_EQ(DecodeDarwinJson("[]", "array.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeDarwinJson("", "empty.json").status().code(), absl::StatusCode::kInvalidArgument);
}

constexpr char kSlots[] = R"([{"slot_name": "0", "type": "image", "width": 10, "height": 20}])";

std::string ItemJson(absl::string_view version, absl::string_view source_info,
                     absl::string_view slots, absl::string_view annotations) {
  return std::string(R"({"version": ")") + std::string(version) +
         R"(", "item": {"name": "x.jpg", "path": "/", "source_info": )" + std::string(source_info) +
         R"(, "slots": )" + std::string(slots) + R"(}, "annotations": )" +
         std::string(annotations) + "}";
}

TEST(DarwinJsonTest, MissingItemIdIsInvalidArgumentNamingTheFile) {
  for (absl::string_view source_info : {"{}", "null", R"({"item_id": ""})", R"({"item_id": 5})"}) {
    absl::StatusOr<ExportedItem> item =
        DecodeDarwinJson(ItemJson("2.0", source_info, kSlots, "[]"), "noid.json");
    EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument) << source_info;
    EXPECT_THAT(item.status().message(), HasSubstr("noid.json"));
    EXPECT_THAT(item.status().message(), HasSubstr("item.source_info.item_id"));
  }
}

TEST(DarwinJsonTest, MissingSlotSizeIsInvalidArgumentNamingTheSlot) {
  absl::StatusOr<ExportedItem> item =
      DecodeDarwinJson(ItemJson("2.0", R"({"item_id": "i"})",
                                R"([{"slot_name": "0", "width": 1, "height": 1},
                   {"slot_name": "left", "width": 640, "height": null}])",
                                "[]"),
                       "nosize.json");
  EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(item.status().message(), HasSubstr("nosize.json"));
  EXPECT_THAT(item.status().message(), HasSubstr("item.slots[1] (slot 'left')"));
  EXPECT_EQ(DecodeDarwinJson(ItemJson("2.0", R"({"item_id": "i"})", "[]", "[]"), "f.json")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DarwinJsonTest, VersionMustBeTwoDotSomething) {
  EXPECT_TRUE(DecodeDarwinJson(ItemJson("2.1", R"({"item_id": "i"})", kSlots, "[]"), "f").ok());
  absl::StatusOr<ExportedItem> item =
      DecodeDarwinJson(ItemJson("1.0", R"({"item_id": "i"})", kSlots, "[]"), "old.json");
  EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(item.status().message(), HasSubstr("version"));
  EXPECT_THAT(item.status().message(), HasSubstr("old.json"));
}

TEST(DarwinJsonTest, UnknownAndMalformedAnnotationsAreSkippedWithReasons) {
  absl::StatusOr<ExportedItem> item =
      DecodeDarwinJson(ItemJson("2.0", R"({"item_id": "i"})", kSlots,
                                R"([{"id": "e", "name": "c", "ellipse": {}},
                   {"id": "q", "name": "c", "cuboid": {}},
                   {"id": "n", "name": "c", "whatever": {}},
                   {"id": "b", "name": "c", "bounding_box": {"x": 1}},
                   {"id": "l", "name": "c", "line": {"path": [{"x": 1}]}},
                   {"id": "nn", "bounding_box": {"x": 1, "y": 1, "w": 1, "h": 1}},
                   {"id": "v", "name": "c", "frames": {"0": {"oval": {}}}},
                   7,
                   {"id": "ok", "name": "c", "tag": {}, "extra": {"unknown": true}}])"),
                       "mixed.json");
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_THAT(item->annotations, SizeIs(1));
  EXPECT_EQ(item->annotations[0].id, "ok");
  EXPECT_THAT(item->skipped,
              ElementsAre(Pair("e", "unsupported annotation type 'ellipse'"),
                          Pair("q", "unsupported annotation type 'cuboid'"),
                          Pair("n", "no known annotation type"),
                          Pair("b", HasSubstr("malformed bounding_box")),
                          Pair("l", HasSubstr("malformed line")), Pair("nn", "no class name"),
                          Pair("v", "frame 0: no known annotation type"),
                          Pair("annotations[7]", "not an object")));
}

}  // namespace
}  // namespace labelport::backend::darwin
