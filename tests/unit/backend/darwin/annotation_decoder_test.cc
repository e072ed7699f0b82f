// Exported V7 items → FiftyOne labels with stable ids (spec:
// annotation-semantics §5.7, §5.11 with the [fix] items 64, 69, 72, 74, 75,
// 79). Round trips encode with EncodeFieldValue, turn the import payload into
// what an export returns (darwin-api §7.10) and decode with DecodeItem.
#include "service/backend/darwin/annotation_decoder.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

using testing::BoxLabel;
using testing::DetectionsValue;
using testing::Parse;
using testing::Value;
using testing::WithAttributes;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// `label` with its id set to DerivedLabelId(annotation_id).
template <typename L>
L WithDerivedId(L label, const std::string& annotation_id) {
  label.set_id(DerivedLabelId(annotation_id));
  return label;
}

// Proto equality with NaN == NaN (missing keypoints) and doubles compared
// approximately (pixels ↔ relative coordinates).
MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  comparator.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  std::string diff;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << "is " << arg.ShortDebugString() << "\ndifferences:\n" << diff;
  return false;
}

// A V7 property as the test's "team" defines it.
struct Property {
  std::string id;
  std::string name;
  std::string granularity;
  std::map<std::string, std::string> value_ids;  // value string → id
};

// Two detections fields ("animals"; "vehicles", with the class group {car,
// truck} of the vehicle attributes), a polygons field, a lines field, a
// keypoints field and a classifications field.
v1::LabelSchema Schema() {
  v1::LabelSchema schema;
  *schema.add_fields() = testing::FieldSchemaOf("animals", "detections", {"cat", "dog", "both"});
  v1::FieldSchema* vehicles = schema.add_fields();
  *vehicles = testing::FieldSchemaOf("vehicles", "detections", {"both"});
  *vehicles->mutable_classes()->add_entries() = testing::VehicleGroup({"car", "truck"});
  *schema.add_fields() = testing::FieldSchemaOf("areas", "polygons", {"lake"});
  *schema.add_fields() = testing::FieldSchemaOf("lanes", "polylines", {"lane"});
  *schema.add_fields() = testing::FieldSchemaOf("faces", "keypoints", {"face"});
  *schema.add_fields() = testing::FieldSchemaOf("weather", "classifications", {"sunny"});
  return schema;
}

class DecoderTest : public ::testing::Test {
 protected:
  DecoderTest() : schema_(Schema()) {
    snapshot_.set_id("sample-1");
    int64_t next = 1;
    for (const auto& [name, type] :
         std::vector<std::pair<std::string, std::string>>{{"cat", "bounding_box"},
                                                          {"dog", "bounding_box"},
                                                          {"both", "bounding_box"},
                                                          {"car", "bounding_box"},
                                                          {"truck", "bounding_box"},
                                                          {"lake", "polygon"},
                                                          {"lane", "line"},
                                                          {"face", "keypoint"},
                                                          {"sunny", "tag"}}) {
      class_names_[next] = name;
      class_ids_[{name, type}] = next++;
    }
    for (const std::string cls : {"car", "truck"}) {
      const int64_t id = class_ids_.at({cls, "bounding_box"});
      AddProperty(id,
                  {"p-color-" + cls, "color", "section", {{"red", "v-red"}, {"blue", "v-blue"}}});
      AddProperty(id, {"p-doors-" + cls, "doors", "annotation", {{"2", "v-2"}, {"4", "v-4"}}});
      AddProperty(
          id, {"p-parts-" + cls, "parts", "section", {{"door", "v-door"}, {"wheel", "v-wheel"}}});
    }
    item_.item_id = "item-1";
    item_.name = "a.jpg";
    item_.slots.push_back(ExportedSlot{"0", "image", 200, 100, 0, 0});
  }

  void AddProperty(int64_t class_id, Property p) {
    properties_[{class_id, p.name}] = p;
    property_by_id_[p.id] = p;
  }

  const v1::FieldSchema& Field(const std::string& name) const {
    for (const auto& f : schema_.fields())
      if (f.field() == name) return f;
    ADD_FAILURE() << "no field " << name;
    return v1::FieldSchema::default_instance();
  }

  // Uploads `value` as `field` of the snapshot: encodes it and appends the
  // resulting annotations, as an export returns them, to the item.
  void Upload(const std::string& field, const v1::FieldValue& value) {
    auto* sf = snapshot_.add_fields();
    sf->set_field(field);
    *sf->mutable_value() = value;

    EncodeContext context = testing::TestEncodeContext(&class_ids_, 200, 100);
    context.field = &Field(field);
    context.property = [this](int64_t class_id,
                              const std::string& name) -> std::optional<ResolvedProperty> {
      auto it = properties_.find({class_id, name});
      if (it == properties_.end()) return std::nullopt;
      ResolvedProperty r;
      r.id = it->second.id;
      r.granularity = it->second.granularity;
      r.value_ids = it->second.value_ids;
      return r;
    };
    auto encoded = EncodeFieldValue(value, context);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    for (const auto& link : encoded->links) links_[link.annotation_id()] = link;
    for (const auto& a : encoded->annotations) item_.annotations.push_back(Exported(a.as_object()));
  }

  // The export form of one import-format annotation (darwin-api §7.10).
  ExportedAnnotation Exported(const json::object& a) {
    ExportedAnnotation out;
    out.id = std::string(a.at("id").as_string());
    out.name = class_names_.at(a.at("annotation_class_id").to_number<int64_t>());
    out.slot_name = std::string(a.at("context_keys").at("slot_names").at(0).as_string());
    const json::object& data = a.at("data").as_object();
    auto point = [](const json::value& p) {
      return PixelPoint{p.at("x").to_number<double>(), p.at("y").to_number<double>()};
    };
    auto path = [&](const json::value& v) {
      std::vector<PixelPoint> out_path;
      for (const auto& p : v.as_array()) out_path.push_back(point(p));
      return out_path;
    };
    if (const auto* box = data.if_contains("bounding_box")) {
      out.type = "bounding_box";
      out.bounding_box =
          std::vector<double>{box->at("x").to_number<double>(), box->at("y").to_number<double>(),
                              box->at("w").to_number<double>(), box->at("h").to_number<double>()};
    } else if (const auto* polygon = data.if_contains("polygon")) {
      out.type = "polygon";
      out.paths.push_back(path(polygon->at("path")));
      if (const auto* more = polygon->as_object().if_contains("additional_paths"))
        for (const auto& p : more->as_array()) out.paths.push_back(path(p));
      double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
      for (const auto& p : out.paths)
        for (const auto& q : p) {
          x0 = std::min(x0, q.x), y0 = std::min(y0, q.y);
          x1 = std::max(x1, q.x), y1 = std::max(y1, q.y);
        }
      out.bounding_box = std::vector<double>{x0, y0, x1 - x0, y1 - y0};
    } else if (const auto* line = data.if_contains("line")) {
      out.type = "line";
      out.paths.push_back(path(line->at("path")));
    } else if (const auto* keypoint = data.if_contains("keypoint")) {
      out.type = "keypoint";
      out.point = point(*keypoint);
    } else if (data.contains("tag")) {
      out.type = "tag";
    } else {
      ADD_FAILURE() << "no main type in " << json::serialize(a);
    }
    if (const auto* v = data.if_contains("instance_id"))
      out.instance_id = v->at("value").to_number<int64_t>();
    if (const auto* v = data.if_contains("inference"))
      out.confidence = v->at("confidence").to_number<double>();
    if (const auto* v = data.if_contains("text")) out.text = std::string(v->at("text").as_string());
    if (const auto* frames = a.if_contains("annotation_properties")) {
      for (const auto& [frame, by_property] : frames->as_object()) {
        for (const auto& [property_id, value_ids] : by_property.as_object()) {
          const Property& p = property_by_id_.at(std::string(property_id));
          for (const auto& value_id : value_ids.as_array()) {
            ExportedProperty e;
            e.name = p.name;
            for (const auto& [value, id] : p.value_ids)
              if (id == value_id.as_string()) e.value = value;
            e.frame_index = frame == "global" ? -1 : std::stoll(std::string(frame));
            out.properties.push_back(std::move(e));
          }
        }
      }
    }
    return out;
  }

  ExportedAnnotation& ExportedOf(const std::string& label_id, int part = 0) {
    for (auto& a : item_.annotations) {
      auto it = links_.find(a.id);
      if (it != links_.end() && it->second.label_id() == label_id && it->second.part() == part)
        return a;
    }
    ADD_FAILURE() << "no exported annotation for " << label_id << "/" << part;
    static ExportedAnnotation none;
    return none;
  }

  LoadedSample Decode() {
    skipped_.clear();
    auto loaded = DecodeItem(item_, snapshot_, schema_, links_, &skipped_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok()) return LoadedSample{};
    EXPECT_EQ(loaded->sample_id, "sample-1");
    std::vector<std::string> names;
    for (const auto& f : loaded->fields) names.push_back(f.field);
    EXPECT_THAT(names, ElementsAre("animals", "vehicles", "areas", "lanes", "faces", "weather"));
    return *std::move(loaded);
  }

  static const LoadedField& FieldOf(const LoadedSample& s, const std::string& name) {
    for (const auto& f : s.fields)
      if (f.field == name) return f;
    ADD_FAILURE() << "no loaded field " << name;
    static LoadedField none;
    return none;
  }

  v1::LabelSchema schema_;
  v1::Sample snapshot_;
  ExportedItem item_;
  std::map<std::string, AnnotationLink> links_;
  std::vector<v1::SkippedEntry> skipped_;
  std::map<int64_t, std::string> class_names_;
  testing::ClassIds class_ids_;
  std::map<std::pair<int64_t, std::string>, Property> properties_;
  std::map<std::string, Property> property_by_id_;
};

// A vehicle with everything V7 carries and everything it does not.
constexpr char kCar[] = R"pb(
  detections {
    detections {
      id: "aaaaaaaaaaaaaaaaaaaaaaaa"
      label: "car"
      bounding_box: [ 0.25, 0.5, 0.125, 0.25 ]
      confidence: 0.0
      index: 0
      tags: "reviewed"
      tags: "hard"
      attributes {
        key: "color"
        value { string_value: "blue" }
      }
      attributes {
        key: "doors"
        value { int_value: 4 }
      }
      attributes {
        key: "parts"
        value {
          list_value {
            values { string_value: "wheel" }
            values { string_value: "door" }
          }
        }
      }
      attributes {
        key: "plate"
        value { string_value: "AB 123" }
      }
      attributes {
        key: "iscrowd"
        value { int_value: 1 }
      }
    }
    detections {
      id: "bbbbbbbbbbbbbbbbbbbbbbbb"
      label: "truck"
      bounding_box: [ 0.5, 0.5, 0.25, 0.25 ]
      index: 7
      confidence: 0.75
    }
  })pb";

TEST_F(DecoderTest, UnchangedRoundTripReturnsTheOriginalLabels) {
  const v1::FieldValue cars = Value(kCar);
  const v1::FieldValue cats =
      DetectionsValue({BoxLabel("cccccccccccccccccccccccc", "cat", {0, 0, 0.5, 0.5})});
  Upload("vehicles", cars);
  Upload("animals", cats);
  const LoadedSample s = Decode();
  EXPECT_THAT(FieldOf(s, "vehicles").downloaded, EqualsProto(cars));
  EXPECT_THAT(FieldOf(s, "animals").downloaded, EqualsProto(cats));
  EXPECT_THAT(FieldOf(s, "vehicles").unexpected, IsEmpty());
  EXPECT_THAT(skipped_, IsEmpty());
  // Fields without annotations come back empty, of their own return type.
  EXPECT_THAT(FieldOf(s, "areas").downloaded, EqualsProto(Value("polylines {}")));
  EXPECT_THAT(FieldOf(s, "weather").downloaded, EqualsProto(Value("classifications {}")));
}

TEST_F(DecoderTest, BoxRoundTripsWithinFloatTolerance) {
  const v1::FieldValue value = DetectionsValue(
      {BoxLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "cat", {0.1234567, 0.7654321, 0.3333333, 0.1111111})});
  Upload("animals", value);
  const ExportedAnnotation& a = ExportedOf("aaaaaaaaaaaaaaaaaaaaaaaa");
  ASSERT_TRUE(a.bounding_box.has_value());
  EXPECT_NEAR((*a.bounding_box)[0], 0.1234567 * 200, 1e-9);
  EXPECT_NEAR((*a.bounding_box)[1], 0.7654321 * 100, 1e-9);
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "animals").downloaded.detections().detections(0);
  ASSERT_THAT(d.bounding_box(), SizeIs(4));
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(d.bounding_box(i), value.detections().detections(0).bounding_box(i), 1e-12);
}

TEST_F(DecoderTest, BoxIsScaledByTheExportedSlotSize) {
  Upload("animals", DetectionsValue({BoxLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "cat")}));
  item_.slots[0].width = 400;  // V7's measurement wins
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "animals").downloaded.detections().detections(0);
  EXPECT_THAT(d.bounding_box(), ElementsAre(0, 0, 0.5, 1));
}

TEST_F(DecoderTest, MultiPointKeypointIsRegroupedWithNaNForMissingPoints) {
  const v1::FieldValue value = testing::KeypointsValue({testing::KeypointLabel(
      "kkkkkkkkkkkkkkkkkkkkkkkk", "face", {{0.25, 0.5}, {kNaN, kNaN}, {0.5, 0.25}, {0.75, 0.75}},
      {0.5, kNaN, 0.0, 0.25})});
  Upload("faces", value);
  EXPECT_THAT(item_.annotations, SizeIs(3));
  EXPECT_THAT(FieldOf(Decode(), "faces").downloaded, EqualsProto(value));

  // A point deleted in V7 comes back as NaN, in place.
  item_.annotations.erase(item_.annotations.begin() + 1);  // part 2
  const LoadedSample loaded = Decode();
  const v1::Keypoint& k = FieldOf(loaded, "faces").downloaded.keypoints().keypoints(0);
  ASSERT_THAT(k.points(), SizeIs(4));
  EXPECT_DOUBLE_EQ(k.points(0).x(), 0.25);
  EXPECT_TRUE(std::isnan(k.points(1).x()) && std::isnan(k.points(1).y()));
  EXPECT_TRUE(std::isnan(k.points(2).x()) && std::isnan(k.points(2).y()));
  EXPECT_DOUBLE_EQ(k.points(3).y(), 0.75);
  EXPECT_EQ(k.id(), "kkkkkkkkkkkkkkkkkkkkkkkk");
}

TEST_F(DecoderTest, MultiShapePolylineIsRegroupedInPartOrder) {
  v1::Polyline lane = testing::PolylineLabel("llllllllllllllllllllllll", "lane",
                                             {{{0, 0}, {0.5, 0.5}}, {{1, 1}, {0.5, 1}}});
  lane.add_tags("t");
  const v1::FieldValue value = testing::PolylinesValue({lane});
  Upload("lanes", value);
  std::reverse(item_.annotations.begin(), item_.annotations.end());
  EXPECT_THAT(FieldOf(Decode(), "lanes").downloaded, EqualsProto(value));
}

TEST_F(DecoderTest, ClassificationRoundTripsAsTag) {
  const v1::FieldValue value = Value(R"pb(
    classifications {
      classifications { id: "dddddddddddddddddddddddd" label: "sunny" confidence: 0.0 tags: "x" }
    })pb");
  Upload("weather", value);
  EXPECT_THAT(FieldOf(Decode(), "weather").downloaded, EqualsProto(value));
}

TEST_F(DecoderTest, EditedAnnotationKeepsItsIdAndTakesTheNewValues) {
  Upload("vehicles", Value(kCar));
  ExportedAnnotation& a = ExportedOf("aaaaaaaaaaaaaaaaaaaaaaaa");
  a.name = "truck";
  (*a.bounding_box)[0] = 100;  // moved: x = 0.5
  for (auto& p : a.properties)
    if (p.name == "color") p.value = "red";
  a.text = "XY 999";
  a.instance_id = 3;
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "vehicles").downloaded.detections().detections(0);
  v1::Detection expected = Value(kCar).detections().detections(0);
  expected.set_label("truck");
  expected.set_bounding_box(0, 0.5);
  expected.set_index(3);
  (*expected.mutable_attributes())["color"].set_string_value("red");
  (*expected.mutable_attributes())["plate"].set_string_value("XY 999");
  EXPECT_THAT(d, EqualsProto(expected));
}

TEST_F(DecoderTest, PropertyClearedInV7RemovesTheAttribute) {
  Upload("vehicles", Value(kCar));
  ExportedAnnotation& a = ExportedOf("aaaaaaaaaaaaaaaaaaaaaaaa");
  std::erase_if(a.properties, [](const ExportedProperty& p) { return p.name == "parts"; });
  a.text.reset();
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "vehicles").downloaded.detections().detections(0);
  EXPECT_FALSE(d.attributes().contains("parts"));
  EXPECT_FALSE(d.attributes().contains("plate"));
  EXPECT_TRUE(d.attributes().contains("color"));
  EXPECT_TRUE(d.attributes().contains("iscrowd"));
}

TEST_F(DecoderTest, AnnotationDeletedInV7IsAbsent) {
  Upload("vehicles", Value(kCar));
  std::erase_if(item_.annotations,
                [&](const ExportedAnnotation& a) { return links_.at(a.id).label_id()[0] == 'a'; });
  const LoadedSample loaded = Decode();
  const auto& detections = FieldOf(loaded, "vehicles").downloaded.detections().detections();
  ASSERT_THAT(detections, SizeIs(1));
  EXPECT_EQ(detections[0].id(), "bbbbbbbbbbbbbbbbbbbbbbbb");
}

ExportedAnnotation NewBox(const std::string& id, const std::string& name) {
  ExportedAnnotation a;
  a.id = id;
  a.name = name;
  a.type = "bounding_box";
  a.slot_name = "0";
  a.bounding_box = std::vector<double>{20, 10, 40, 30};
  return a;
}

TEST_F(DecoderTest, DerivedLabelIdIs24HexAndStable) {
  const std::string id = DerivedLabelId("0a7c0e61-3c69-4a59-9a06-6e0b0b9d9a01");
  EXPECT_THAT(id, MatchesRegex("[0-9a-f]{24}"));
  EXPECT_EQ(DerivedLabelId("0a7c0e61-3c69-4a59-9a06-6e0b0b9d9a01"), id);
  EXPECT_NE(DerivedLabelId("0a7c0e61-3c69-4a59-9a06-6e0b0b9d9a02"), id);
}

TEST_F(DecoderTest, NewAnnotationGetsDerivedIdInTheFieldListingItsClass) {
  item_.annotations.push_back(NewBox("new-car", "car"));
  item_.annotations.push_back(NewBox("new-dog", "dog"));
  item_.annotations.push_back(NewBox("new-both", "both"));
  item_.annotations.push_back(NewBox("new-unknown", "horse"));
  const LoadedSample s = Decode();
  std::vector<std::string> animals, vehicles;
  for (const auto& d : FieldOf(s, "animals").downloaded.detections().detections())
    animals.push_back(d.id());
  for (const auto& d : FieldOf(s, "vehicles").downloaded.detections().detections())
    vehicles.push_back(d.id());
  // "both" is in both fields and "horse" in none: the first field wins.
  EXPECT_THAT(animals, ElementsAre(DerivedLabelId("new-dog"), DerivedLabelId("new-both"),
                                   DerivedLabelId("new-unknown")));
  EXPECT_THAT(vehicles, ElementsAre(DerivedLabelId("new-car")));
  const v1::Detection& car = FieldOf(s, "vehicles").downloaded.detections().detections(0);
  EXPECT_THAT(car.bounding_box(), ElementsAre(0.1, 0.1, 0.2, 0.3));
  EXPECT_EQ(car.label(), "car");
}

TEST_F(DecoderTest, TwoFieldsOfTheSameShapeNeverCrossContaminate) {
  Upload("animals", DetectionsValue({BoxLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "cat"),
                                     BoxLabel("eeeeeeeeeeeeeeeeeeeeeeee", "both")}));
  Upload("vehicles", DetectionsValue({BoxLabel("bbbbbbbbbbbbbbbbbbbbbbbb", "car"),
                                      BoxLabel("ffffffffffffffffffffffff", "both")}));
  // A cat relabelled as a car in V7 stays in its own field.
  ExportedOf("aaaaaaaaaaaaaaaaaaaaaaaa").name = "car";
  const LoadedSample s = Decode();
  std::vector<std::string> animals, vehicles;
  for (const auto& d : FieldOf(s, "animals").downloaded.detections().detections())
    animals.push_back(d.id() + ":" + d.label());
  for (const auto& d : FieldOf(s, "vehicles").downloaded.detections().detections())
    vehicles.push_back(d.id() + ":" + d.label());
  EXPECT_THAT(animals,
              ElementsAre("aaaaaaaaaaaaaaaaaaaaaaaa:car", "eeeeeeeeeeeeeeeeeeeeeeee:both"));
  EXPECT_THAT(vehicles,
              ElementsAre("bbbbbbbbbbbbbbbbbbbbbbbb:car", "ffffffffffffffffffffffff:both"));
}

TEST_F(DecoderTest, AnnotationOfATypeNoFieldHasIsUnexpectedInTheFirstField) {
  v1::LabelSchema only_boxes;
  *only_boxes.add_fields() = Field("animals");
  *only_boxes.add_fields() = Field("vehicles");
  ExportedAnnotation tag;
  tag.id = "new-tag";
  tag.name = "night";
  tag.type = "tag";
  item_.annotations.push_back(tag);
  ExportedAnnotation polygon;
  polygon.id = "new-polygon";
  polygon.name = "lake";
  polygon.type = "polygon";
  polygon.paths = {{{0, 0}, {100, 0}, {100, 50}}};
  item_.annotations.push_back(polygon);
  ExportedAnnotation ellipse;
  ellipse.id = "new-ellipse";
  ellipse.name = "wheel";
  ellipse.type = "ellipse";
  item_.annotations.push_back(ellipse);

  std::vector<v1::SkippedEntry> skipped;
  auto loaded = DecodeItem(item_, snapshot_, only_boxes, links_, &skipped);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(loaded->fields, SizeIs(2));
  EXPECT_THAT(loaded->fields[1].unexpected, IsEmpty());
  const auto& unexpected = loaded->fields[0].unexpected;
  ASSERT_THAT(unexpected, SizeIs(2));
  EXPECT_EQ(unexpected[0].return_type(), "classifications");
  ASSERT_THAT(unexpected[0].labels().classifications().classifications(), SizeIs(1));
  EXPECT_THAT(
      unexpected[0].labels().classifications().classifications(0),
      EqualsProto(WithDerivedId(Parse<v1::Classification>(R"pb(label: "night")pb"), "new-tag")));
  EXPECT_EQ(unexpected[1].return_type(), "polylines");
  ASSERT_THAT(unexpected[1].labels().polylines().polylines(), SizeIs(1));
  EXPECT_THAT(unexpected[1].labels().polylines().polylines(0),
              EqualsProto(WithDerivedId(Parse<v1::Polyline>(R"pb(
                                          label: "lake"
                                          points {
                                            points { x: 0 y: 0 }
                                            points { x: 0.5 y: 0 }
                                            points { x: 0.5 y: 0.5 }
                                          }
                                          closed: true
                                          filled: true)pb"),
                                        "new-polygon")));
  ASSERT_THAT(skipped, SizeIs(1));
  EXPECT_EQ(skipped[0].annotation_id(), "new-ellipse");
  EXPECT_EQ(skipped[0].item_id(), "item-1");
  EXPECT_THAT(skipped[0].reason(), HasSubstr("ellipse"));
}

TEST_F(DecoderTest, PolygonInAPolygonsFieldIsClosedAndFilled) {
  ExportedAnnotation polygon;
  polygon.id = "new-polygon";
  polygon.name = "lake";
  polygon.type = "polygon";
  polygon.paths = {{{0, 0}, {100, 0}, {100, 50}}, {{10, 10}, {20, 10}, {20, 20}}};
  item_.annotations.push_back(polygon);
  ExportedAnnotation line;
  line.id = "new-line";
  line.name = "lane";
  line.type = "line";
  line.paths = {{{0, 0}, {200, 100}}};
  item_.annotations.push_back(line);
  const LoadedSample s = Decode();
  const v1::Polyline& p = FieldOf(s, "areas").downloaded.polylines().polylines(0);
  EXPECT_TRUE(p.closed());
  EXPECT_TRUE(p.filled());
  EXPECT_THAT(p.points(), SizeIs(2));
  const v1::Polyline& l = FieldOf(s, "lanes").downloaded.polylines().polylines(0);
  EXPECT_FALSE(l.closed());
  EXPECT_FALSE(l.filled());
  EXPECT_THAT(l, EqualsProto(WithDerivedId(Parse<v1::Polyline>(R"pb(
                                             label: "lane"
                                             points {
                                               points { x: 0 y: 0 }
                                               points { x: 1 y: 1 }
                                             })pb"),
                                           "new-line")));
}

TEST_F(DecoderTest, PropertiesBecomeTypedAttributeValues) {
  ExportedAnnotation a = NewBox("new-car", "car");
  a.properties = {{"color", "red", 0},   {"doors", "2", -1},         {"parts", "door", 0},
                  {"parts", "wheel", 0}, {"plate", std::nullopt, 0}, {"unknown", "x", 0}};
  a.text = "AB 1";
  a.instance_id = 0;
  a.confidence = 0.0;
  item_.annotations.push_back(a);
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "vehicles").downloaded.detections().detections(0);
  EXPECT_THAT(d, EqualsProto(WithDerivedId(Parse<v1::Detection>(R"pb(
                                             label: "car"
                                             bounding_box: [ 0.1, 0.1, 0.2, 0.3 ]
                                             index: 0
                                             confidence: 0.0
                                             attributes {
                                               key: "color"
                                               value { string_value: "red" }
                                             }
                                             attributes {
                                               key: "doors"
                                               value { int_value: 2 }
                                             }
                                             attributes {
                                               key: "parts"
                                               value {
                                                 list_value {
                                                   values { string_value: "door" }
                                                   values { string_value: "wheel" }
                                                 }
                                               }
                                             }
                                             attributes {
                                               key: "plate"
                                               value { string_value: "AB 1" }
                                             })pb"),
                                           "new-car")));
}

TEST_F(DecoderTest, AuthorshipBecomesDarwinAnnotatorsAndReviewers) {
  ExportedAnnotation a = NewBox("new-cat", "cat");
  a.annotators = {"Jane Doe", "rob@example.com"};
  a.reviewers = {"Rob Smith"};
  a.confidence = 0.5;
  item_.annotations.push_back(a);
  const LoadedSample loaded = Decode();
  const v1::Detection& d = FieldOf(loaded, "animals").downloaded.detections().detections(0);
  EXPECT_EQ(d.confidence(), 0.5);
  EXPECT_THAT(
      d.attributes().at("darwin_annotators"),
      EqualsProto(Parse<v1::AttributeValue>(R"pb(list_value {
                                                   values { string_value: "Jane Doe" }
                                                   values { string_value: "rob@example.com" }
                                                 })pb")));
  EXPECT_THAT(d.attributes().at("darwin_reviewers"),
              EqualsProto(Parse<v1::AttributeValue>(R"pb(list_value {
                                                           values { string_value: "Rob Smith" }
                                                         })pb")));
}

// An existing field's observed attributes are specified as `text` (spec
// §2.6); V7 carries one text sub-annotation, so the others must come back
// from the snapshot, typed, and not as copies of that one text.
TEST_F(DecoderTest, UnsentTextAttributesOfAnExistingFieldSurviveTyped) {
  schema_ = Parse<v1::LabelSchema>(R"pb(
    fields {
      field: "ground_truth"
      type: "detections"
      classes { entries { name: "cat" } }
      attributes {
        specs {
          specs { name: "iscrowd" type: "text" }
          specs { name: "area" type: "text" }
          specs { name: "source" type: "text" }
        }
      }
      existing_field: true
    })pb");
  const v1::FieldValue value = DetectionsValue(
      {WithAttributes(BoxLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "cat"),
                      {{"iscrowd", "int_value: 0"}, {"area", "double_value: 12.5"}}),
       WithAttributes(BoxLabel("bbbbbbbbbbbbbbbbbbbbbbbb", "cat"),
                      {{"source", R"pb(string_value: "coco")pb"}})});
  Upload("ground_truth", value);
  std::vector<v1::SkippedEntry> skipped;
  auto loaded = DecodeItem(item_, snapshot_, schema_, links_, &skipped);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(loaded->fields, SizeIs(1));
  EXPECT_THAT(loaded->fields[0].downloaded, EqualsProto(value));

  // The text V7 carries is the first one the label had: an edit lands there.
  ExportedOf("aaaaaaaaaaaaaaaaaaaaaaaa").text = "1";
  ExportedOf("bbbbbbbbbbbbbbbbbbbbbbbb").text = "voc";
  loaded = DecodeItem(item_, snapshot_, schema_, links_, &skipped);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto& d = loaded->fields[0].downloaded.detections();
  EXPECT_THAT(d.detections(0).attributes().at("iscrowd"),
              EqualsProto(Parse<v1::AttributeValue>(R"pb(string_value: "1")pb")));
  EXPECT_THAT(d.detections(0).attributes().at("area"),
              EqualsProto(Parse<v1::AttributeValue>("double_value: 12.5")));
  EXPECT_FALSE(d.detections(0).attributes().contains("source"));
  EXPECT_THAT(d.detections(1).attributes().at("source"),
              EqualsProto(Parse<v1::AttributeValue>(R"pb(string_value: "voc")pb")));
  EXPECT_FALSE(d.detections(1).attributes().contains("iscrowd"));
}

// Labels follow the snapshot's order, then new ones, whatever the export's
// order; so a single-label field gets back its own label, not a new one
// listed before it (which the merge would turn into delete + add).
TEST_F(DecoderTest, LinkedLabelsComeFirstInSnapshotOrder) {
  schema_.clear_fields();
  *schema_.add_fields() = testing::FieldSchemaOf("main", "detection", {"cat"});
  *schema_.add_fields() = testing::FieldSchemaOf("all", "detections", {"dog"});
  v1::FieldValue main;
  *main.mutable_detection() = BoxLabel("aaaaaaaaaaaaaaaaaaaaaaaa", "cat");
  Upload("main", main);
  Upload("all", DetectionsValue({BoxLabel("bbbbbbbbbbbbbbbbbbbbbbbb", "dog"),
                                 BoxLabel("cccccccccccccccccccccccc", "dog")}));
  std::reverse(item_.annotations.begin(), item_.annotations.end());
  item_.annotations.insert(item_.annotations.begin(), NewBox("new-cat", "cat"));
  item_.annotations.insert(item_.annotations.begin(), NewBox("new-dog", "dog"));
  std::vector<v1::SkippedEntry> skipped;
  auto loaded = DecodeItem(item_, snapshot_, schema_, links_, &skipped);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_THAT(loaded->fields, SizeIs(2));
  EXPECT_EQ(loaded->fields[0].downloaded.detection().id(), "aaaaaaaaaaaaaaaaaaaaaaaa");
  std::vector<std::string> ids;
  for (const auto& d : loaded->fields[1].downloaded.detections().detections())
    ids.push_back(d.id());
  EXPECT_THAT(ids, ElementsAre("bbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc",
                               DerivedLabelId("new-dog")));
}

TEST_F(DecoderTest, BoundingBoxWithoutCoordinatesIsSkipped) {
  ExportedAnnotation a = NewBox("bad", "cat");
  a.bounding_box.reset();
  item_.annotations.push_back(a);
  EXPECT_THAT(FieldOf(Decode(), "animals").downloaded.detections().detections(), IsEmpty());
  ASSERT_THAT(skipped_, SizeIs(1));
  EXPECT_EQ(skipped_[0].annotation_id(), "bad");
}

TEST(ReturnTypeOfDarwinTypeTest, MapsTheMainTypes) {
  const std::pair<const char*, const char*> kCases[] = {
      {"bounding_box", "detections"}, {"polygon", "polylines"},   {"line", "polylines"},
      {"keypoint", "keypoints"},      {"tag", "classifications"}, {"ellipse", ""}};
  for (const auto& [darwin_type, return_type] : kCases)
    EXPECT_EQ(ReturnTypeOfDarwinType(darwin_type), return_type) << darwin_type;
}

}  // namespace
}  // namespace labelport::backend::darwin
