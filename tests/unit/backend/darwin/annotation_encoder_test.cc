// FiftyOne labels → V7 import-format annotations (spec: annotation-semantics
// §5.6 with the [fix] items 57-60, 74, 75, 79; darwin-api §7.10).
#include "service/backend/darwin/annotation_encoder.h"

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
namespace v1 = labelport::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

using testing::BoxLabel;
using testing::DetectionsValue;
using testing::Parse;
using testing::PolylineLabel;
using testing::PolylinesValue;
using testing::Value;
using testing::WithAttributes;

double Num(const json::value& v) { return v.to_number<double>(); }

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The schema of a plain `detections` field "gt".
constexpr char kDetectionsField[] = R"pb(field: "gt" type: "detections")pb";

// A detections field "gt" whose class group {car} has the vehicle attributes.
v1::FieldSchema AttributedSchema() {
  auto schema = Parse<v1::FieldSchema>(kDetectionsField);
  *schema.mutable_classes()->add_entries() = testing::VehicleGroup({"car"});
  return schema;
}

// An image of 200 x 100 pixels, classes "<name>:<type>" numbered from 1, and
// properties by (class id, name).
class EncoderTest : public ::testing::Test {
 protected:
  EncoderTest() : context_(testing::TestEncodeContext(&classes_, 200, 100)) {
    context_.property = [this](int64_t class_id,
                               const std::string& name) -> std::optional<ResolvedProperty> {
      auto it = properties_.find({class_id, name});
      if (it == properties_.end()) return std::nullopt;
      return it->second;
    };
  }

  void AddClass(const std::string& name, const std::string& type, int64_t id) {
    classes_[{name, type}] = id;
  }

  absl::StatusOr<EncodedLabels> Encode(const v1::FieldSchema& field, const v1::FieldValue& value) {
    field_ = field;
    context_.field = &field_;
    return EncodeFieldValue(value, context_);
  }

  // `field_schema` in text format.
  absl::StatusOr<EncodedLabels> Encode(const std::string& field_schema,
                                       const v1::FieldValue& value) {
    return Encode(Parse<v1::FieldSchema>(field_schema), value);
  }

  // Encodes the box "d" labelled `label` with `attributes` (name →
  // text-format AttributeValue) in AttributedSchema().
  EncodedLabels EncodeAttributed(const std::string& label,
                                 const std::map<std::string, std::string>& attributes) {
    return EncodeOk(AttributedSchema(),
                    DetectionsValue({WithAttributes(BoxLabel("d", label), attributes)}));
  }

  template <typename Schema>
  EncodedLabels EncodeOk(const Schema& field_schema, const v1::FieldValue& value) {
    auto encoded = Encode(field_schema, value);
    EXPECT_TRUE(encoded.ok()) << encoded.status();
    return encoded.ok() ? *std::move(encoded) : EncodedLabels{};
  }

  v1::FieldSchema field_;
  testing::ClassIds classes_;
  EncodeContext context_;
  std::map<std::pair<int64_t, std::string>, ResolvedProperty> properties_;
};

const json::object& Data(const EncodedLabels& e, size_t i) {
  return e.annotations.at(i).as_object().at("data").as_object();
}

TEST_F(EncoderTest, DetectionBoxIsScaledByImageSize) {
  AddClass("car", "bounding_box", 7);
  const EncodedLabels e =
      EncodeOk(kDetectionsField, DetectionsValue({BoxLabel("d1", "car", {0.1, 0.2, 0.3, 0.4})}));
  ASSERT_THAT(e.annotations, SizeIs(1));
  const json::object& a = e.annotations[0].as_object();
  EXPECT_EQ(a.at("annotation_class_id").to_number<int64_t>(), 7);
  EXPECT_EQ(a.at("context_keys"), json::parse(R"({"slot_names": ["0"]})"));
  const json::object& box = Data(e, 0).at("bounding_box").as_object();
  EXPECT_DOUBLE_EQ(Num(box.at("x")), 20);
  EXPECT_DOUBLE_EQ(Num(box.at("y")), 20);
  EXPECT_DOUBLE_EQ(Num(box.at("w")), 60);
  EXPECT_DOUBLE_EQ(Num(box.at("h")), 40);
  // No index, no confidence, no attributes: nothing else.
  EXPECT_THAT(Data(e, 0), SizeIs(1));
  EXPECT_FALSE(a.contains("annotation_properties"));
}

// A box partly outside the image goes to V7 clipped to it (image 200 x 100).
TEST_F(EncoderTest, BoxPartlyOutsideTheImageIsClipped) {
  AddClass("car", "bounding_box", 7);
  const EncodedLabels e =
      EncodeOk(kDetectionsField, DetectionsValue({BoxLabel("d1", "car", {-0.1, 0.5, 0.6, 0.7})}));
  const json::object& box = Data(e, 0).at("bounding_box").as_object();
  EXPECT_DOUBLE_EQ(Num(box.at("x")), 0);
  EXPECT_DOUBLE_EQ(Num(box.at("y")), 50);
  EXPECT_DOUBLE_EQ(Num(box.at("w")), 100);
  EXPECT_DOUBLE_EQ(Num(box.at("h")), 50);
}

TEST_F(EncoderTest, PointsOutsideTheImageAreClampedToItsEdge) {
  AddClass("lane", "line", 2);
  const EncodedLabels e =
      EncodeOk(R"pb(field: "lines" type: "polylines")pb",
               PolylinesValue({PolylineLabel("p", "lane", {{{-0.25, 0.5}, {1.5, 1.25}}})}));
  EXPECT_EQ(json::value(Data(e, 0).at("line")),
            json::parse(R"({"path": [{"x": 0.0, "y": 50.0}, {"x": 200.0, "y": 100.0}]})"));
}

TEST_F(EncoderTest, ClassNameIsTheLabelAndTypeFollowsTheSchema) {
  AddClass("car", "polygon", 1);
  AddClass("car", "line", 2);
  const v1::FieldValue value = PolylinesValue({PolylineLabel("p", "car", {{{0, 0}, {1, 1}}})});
  EXPECT_EQ(EncodeOk(R"pb(field: "a" type: "polygons")pb", value)
                .annotations[0]
                .at("annotation_class_id")
                .to_number<int64_t>(),
            1);
  EXPECT_EQ(EncodeOk(R"pb(field: "b" type: "polylines")pb", value)
                .annotations[0]
                .at("annotation_class_id")
                .to_number<int64_t>(),
            2);
}

TEST_F(EncoderTest, MissingClassFailsWithResolverError) {
  auto encoded = Encode(kDetectionsField, DetectionsValue({BoxLabel("d", "ghost")}));
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kNotFound) << encoded.status();
}

TEST_F(EncoderTest, PolygonShapesBecomePathAndAdditionalPaths) {
  AddClass("lake", "polygon", 3);
  v1::Polyline lake = PolylineLabel("p", "lake",
                                    {{{0.1, 0.1}, {0.5, 0.1}, {0.5, 0.5}},
                                     {{0.2, 0.2}, {0.3, 0.2}, {0.3, 0.3}},
                                     {{0.6, 0.6}, {0.7, 0.6}, {0.7, 0.7}}});
  lake.set_closed(true);
  lake.set_filled(true);
  const EncodedLabels e = EncodeOk(R"pb(field: "gt" type: "polygons")pb", PolylinesValue({lake}));
  ASSERT_THAT(e.annotations, SizeIs(1));
  EXPECT_EQ(json::value(Data(e, 0)), json::parse(R"({"polygon": {
      "path": [{"x": 20.0, "y": 10.0}, {"x": 100.0, "y": 10.0}, {"x": 100.0, "y": 50.0}],
      "additional_paths": [
        [{"x": 40.0, "y": 20.0}, {"x": 60.0, "y": 20.0}, {"x": 60.0, "y": 30.0}],
        [{"x": 120.0, "y": 60.0}, {"x": 140.0, "y": 60.0}, {"x": 140.0, "y": 70.0}]]}})"));
  ASSERT_THAT(e.links, SizeIs(1));
  EXPECT_EQ(e.links[0].part_count(), 1);
}

TEST_F(EncoderTest, SingleShapePolygonHasNoAdditionalPaths) {
  AddClass("lake", "polygon", 3);
  v1::FieldValue value;
  *value.mutable_polyline() = PolylineLabel("p", "lake", {{{0.1, 0.1}, {0.5, 0.1}, {0.5, 0.5}}});
  const EncodedLabels e = EncodeOk(R"pb(field: "gt" type: "polygon")pb", value);
  ASSERT_THAT(e.annotations, SizeIs(1));
  EXPECT_FALSE(Data(e, 0).at("polygon").as_object().contains("additional_paths"));
}

// Regression: a polygon without shapes used to read points(0) out of range.
TEST_F(EncoderTest, PolylineWithoutShapesIsInvalid) {
  AddClass("lake", "polygon", 3);
  AddClass("lake", "line", 4);
  const v1::FieldValue value = Value(R"pb(polylines { polylines { id: "p" label: "lake" } })pb");
  for (const char* type : {"polygons", "polylines"}) {
    SCOPED_TRACE(type);
    auto encoded = Encode(absl::StrCat(R"pb(field: "gt" type: ")pb", type, "\""), value);
    EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument) << encoded.status();
    EXPECT_EQ(encoded.status().message(),
              "Sample 'sample-1' field 'gt' label 'p': polyline has no shapes");
  }
}

TEST_F(EncoderTest, PolylinesFieldSendsOneLinePerShape) {
  AddClass("lane", "line", 4);
  const EncodedLabels e = EncodeOk(
      R"pb(field: "lanes" type: "polylines")pb",
      PolylinesValue({PolylineLabel("l", "lane", {{{0, 0}, {0.5, 0.5}}, {{1, 1}, {0.5, 1}}})}));
  ASSERT_THAT(e.annotations, SizeIs(2));
  EXPECT_EQ(json::value(Data(e, 0)),
            json::parse(R"({"line": {"path": [{"x": 0.0, "y": 0.0}, {"x": 100.0, "y": 50.0}]}})"));
  EXPECT_EQ(json::value(Data(e, 1)), json::parse(
                                         R"({"line": {"path": [{"x": 200.0, "y": 100.0},
                                                          {"x": 100.0, "y": 100.0}]}})"));
  ASSERT_THAT(e.links, SizeIs(2));
  EXPECT_EQ(e.links[0].part(), 0);
  EXPECT_EQ(e.links[1].part(), 1);
  EXPECT_EQ(e.links[0].part_count(), 2);
  EXPECT_EQ(e.links[1].part_count(), 2);
  EXPECT_NE(e.links[0].annotation_id(), e.links[1].annotation_id());
}

TEST_F(EncoderTest, KeypointSendsOneAnnotationPerPointSkippingNaN) {
  AddClass("face", "keypoint", 5);
  const EncodedLabels e =
      EncodeOk(R"pb(field: "kp" type: "keypoints")pb",
               testing::KeypointsValue({testing::KeypointLabel(
                   "k", "face", {{0.1, 0.2}, {kNaN, kNaN}, {0.5, 0.5}}, {0.9, 0.8, 0.0})}));
  ASSERT_THAT(e.annotations, SizeIs(2));
  EXPECT_EQ(Data(e, 0).at("keypoint"), json::parse(R"({"x": 20.0, "y": 20.0})"));
  EXPECT_EQ(Data(e, 1).at("keypoint"), json::parse(R"({"x": 100.0, "y": 50.0})"));
  // Per-point confidences go to each part (0.0 included).
  EXPECT_DOUBLE_EQ(Num(Data(e, 0).at("inference").at("confidence")), 0.9);
  EXPECT_DOUBLE_EQ(Num(Data(e, 1).at("inference").at("confidence")), 0.0);
  ASSERT_THAT(e.links, SizeIs(2));
  EXPECT_EQ(e.links[0].part(), 0);
  EXPECT_EQ(e.links[1].part(), 2);
  EXPECT_EQ(e.links[0].part_count(), 3);
  EXPECT_EQ(e.links[1].part_count(), 3);
  EXPECT_EQ(e.links[1].annotation_id(), DeterministicAnnotationId("run-1", "k", 2));
}

TEST_F(EncoderTest, ClassificationBecomesTag) {
  AddClass("sunny", "tag", 6);
  const EncodedLabels single = EncodeOk(R"pb(field: "weather" type: "classification")pb",
                                        Value(R"pb(classification { id: "c" label: "sunny" })pb"));
  ASSERT_THAT(single.annotations, SizeIs(1));
  EXPECT_EQ(json::value(Data(single, 0)), json::parse(R"({"tag": {}})"));
  const EncodedLabels list = EncodeOk(R"pb(field: "weather" type: "classifications")pb",
                                      Value(R"pb(classifications {
                                                   classifications { id: "c1" label: "sunny" }
                                                   classifications { id: "c2" label: "sunny" }
                                                 })pb"));
  ASSERT_THAT(list.annotations, SizeIs(2));
  EXPECT_EQ(json::value(Data(list, 1)), json::parse(R"({"tag": {}})"));
}

TEST_F(EncoderTest, IndexZeroAndConfidenceZeroAreSent) {
  AddClass("car", "bounding_box", 7);
  v1::Detection detection = BoxLabel("d", "car");
  detection.set_index(0);
  detection.set_confidence(0.0);
  const EncodedLabels e = EncodeOk(kDetectionsField, DetectionsValue({detection}));
  const json::object& data = Data(e, 0);
  EXPECT_EQ(data.at("instance_id"), json::parse(R"({"value": 0})"));
  EXPECT_EQ(data.at("inference").at("confidence").to_number<double>(), 0.0);
  EXPECT_EQ(data.at("inference").at("model").at("type"), "external");
}

TEST_F(EncoderTest, SelectAttributesBecomeAnnotationPropertiesByIds) {
  AddClass("car", "bounding_box", 7);
  properties_[{7, "color"}] = {"p-color", "section", {{"red", "v-red"}, {"blue", "v-blue"}}};
  properties_[{7, "parts"}] = {"p-parts", "section", {{"door", "v-door"}, {"wheel", "v-wheel"}}};
  properties_[{7, "doors"}] = {"p-doors", "annotation", {{"2", "v-2"}, {"4", "v-4"}}};
  const EncodedLabels e = EncodeAttributed("car", {{"color", R"pb(string_value: "blue")pb"},
                                                   {"parts", R"pb(list_value {
                                                                    values { string_value: "wheel" }
                                                                    values { string_value: "door" }
                                                                    values { string_value: "roof" }
                                                                  })pb"},
                                                   {"doors", "int_value: 4"},
                                                   {"not_in_schema", R"pb(string_value: "x")pb"}});
  ASSERT_THAT(e.annotations, SizeIs(1));
  EXPECT_EQ(e.annotations[0].at("annotation_properties"), json::parse(R"({
      "0": {"p-color": ["v-blue"], "p-parts": ["v-wheel", "v-door"]},
      "global": {"p-doors": ["v-4"]}})"));
  // Select attributes never leak into data.
  EXPECT_THAT(Data(e, 0), SizeIs(1));
}

// Nothing is sent for a select attribute whose value (green) or property
// (parts) V7 lacks, nor for the attributes of a class outside the group that
// specifies them.
TEST_F(EncoderTest, AttributesV7CannotTakeAreNotSent) {
  AddClass("car", "bounding_box", 7);
  AddClass("person", "bounding_box", 8);
  properties_[{7, "color"}] = {"p-color", "section", {{"red", "v-red"}}};
  properties_[{8, "color"}] = {"p-color", "section", {{"red", "v-red"}}};
  const std::pair<const char*, std::map<std::string, std::string>> kCases[] = {
      {"car",
       {{"color", R"pb(string_value: "green")pb"}, {"parts", R"pb(string_value: "door")pb"}}},
      {"person", {{"color", R"pb(string_value: "red")pb"}, {"plate", R"pb(string_value: "x")pb"}}},
  };
  for (const auto& [label, attributes] : kCases) {
    SCOPED_TRACE(label);
    const EncodedLabels e = EncodeAttributed(label, attributes);
    EXPECT_FALSE(e.annotations[0].as_object().contains("annotation_properties"));
    EXPECT_FALSE(Data(e, 0).contains("text"));
  }
}

TEST_F(EncoderTest, TextAttributeBecomesTextSubAnnotation) {
  AddClass("car", "bounding_box", 7);
  const EncodedLabels e = EncodeAttributed("car", {{"plate", R"pb(string_value: "AB 123")pb"}});
  EXPECT_EQ(Data(e, 0).at("text"), json::parse(R"({"text": "AB 123"})"));
}

// An existing field's observed attributes are all `text`; V7 has one text
// sub-annotation, which carries the first one the label has (the decoder
// reads it back into that one only).
TEST_F(EncoderTest, OnlyTheFirstPresentTextAttributeIsSent) {
  AddClass("cat", "bounding_box", 9);
  const char* schema = R"pb(
    field: "gt"
    type: "detections"
    attributes {
      specs {
        specs { name: "iscrowd" type: "text" }
        specs { name: "area" type: "text" }
      }
    })pb";
  const EncodedLabels e = EncodeOk(
      schema,
      DetectionsValue({WithAttributes(BoxLabel("a", "cat"), {{"iscrowd", "null_value: NULL_VALUE"},
                                                             {"area", "double_value: 12.5"}}),
                       WithAttributes(BoxLabel("b", "cat"), {{"iscrowd", "int_value: 0"},
                                                             {"area", "double_value: 12.5"}})}));
  ASSERT_THAT(e.annotations, SizeIs(2));
  EXPECT_EQ(Data(e, 0).at("text"), json::parse(R"({"text": "12.5"})"));
  EXPECT_EQ(Data(e, 1).at("text"), json::parse(R"({"text": "0"})"));
}

TEST_F(EncoderTest, DeterministicIdsAreStableAndDistinct) {
  const std::string id = DeterministicAnnotationId("run-1", "label-1", 0);
  EXPECT_THAT(id,
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(DeterministicAnnotationId("run-1", "label-1", 0), id);
  const std::set<std::string> ids = {
      id,
      DeterministicAnnotationId("run-1", "label-1", 1),
      DeterministicAnnotationId("run-1", "label-2", 0),
      DeterministicAnnotationId("run-2", "label-1", 0),
  };
  EXPECT_THAT(ids, SizeIs(4));

  // The encoder uses them, so encoding twice gives the same ids.
  AddClass("car", "bounding_box", 7);
  const v1::FieldValue value = DetectionsValue({BoxLabel("a", "car"), BoxLabel("b", "car")});
  const EncodedLabels first = EncodeOk(kDetectionsField, value);
  const EncodedLabels second = EncodeOk(kDetectionsField, value);
  EXPECT_EQ(first.annotations[0].at("id"), second.annotations[0].at("id"));
  EXPECT_EQ(first.annotations[0].at("id").as_string(), DeterministicAnnotationId("run-1", "a", 0));
  EXPECT_NE(first.annotations[0].at("id"), first.annotations[1].at("id"));
}

TEST_F(EncoderTest, LinksCarryFieldSampleItemAndParts) {
  AddClass("car", "bounding_box", 7);
  const EncodedLabels e = EncodeOk(kDetectionsField, DetectionsValue({BoxLabel("a", "car")}));
  ASSERT_THAT(e.links, SizeIs(1));
  const auto& link = e.links[0];
  EXPECT_EQ(link.annotation_id(), e.annotations[0].at("id").as_string());
  EXPECT_EQ(link.label_id(), "a");
  EXPECT_EQ(link.field(), "gt");
  EXPECT_EQ(link.sample_id(), "sample-1");
  EXPECT_EQ(link.item_id(), "item-1");
  EXPECT_EQ(link.part(), 0);
  EXPECT_EQ(link.part_count(), 1);
}

TEST_F(EncoderTest, EmptyValueEncodesNothing) {
  const EncodedLabels e = EncodeOk(kDetectionsField, v1::FieldValue());
  EXPECT_THAT(e.annotations, IsEmpty());
  EXPECT_THAT(e.links, IsEmpty());
}

TEST_F(EncoderTest, ZeroImageSizeFails) {
  AddClass("car", "bounding_box", 7);
  context_.width = 0;
  auto encoded = Encode(kDetectionsField, DetectionsValue({BoxLabel("a", "car")}));
  ASSERT_FALSE(encoded.ok());
  EXPECT_THAT(encoded.status().message(), HasSubstr("sample-1"));
  EXPECT_THAT(encoded.status().message(), HasSubstr("item-1"));
}

TEST_F(EncoderTest, BoundingBoxWithoutFourNumbersIsInvalid) {
  AddClass("car", "bounding_box", 7);
  auto encoded = Encode(kDetectionsField, DetectionsValue({BoxLabel("a", "car", {0, 0})}));
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoded.status().message(),
            "Sample 'sample-1' field 'gt' label 'a': bounding_box needs 4 numbers");
}

TEST(DarwinTypeOfTest, MapsEverySchemaType) {
  const std::pair<const char*, const char*> kCases[] = {{"classification", "tag"},
                                                        {"classifications", "tag"},
                                                        {"detection", "bounding_box"},
                                                        {"detections", "bounding_box"},
                                                        {"polygon", "polygon"},
                                                        {"polygons", "polygon"},
                                                        {"polyline", "line"},
                                                        {"polylines", "line"},
                                                        {"keypoint", "keypoint"},
                                                        {"keypoints", "keypoint"},
                                                        {"segmentation", "mask"},
                                                        {"instances", "polygon"},
                                                        {"scalar", ""}};
  for (const auto& [schema_type, darwin_type] : kCases)
    EXPECT_EQ(DarwinTypeOf(schema_type), darwin_type) << schema_type;
}

TEST(PropertyValueStringTest, TypedValuesAsStrings) {
  const std::pair<const char*, const char*> kCases[] = {{"bool_value: true", "true"},
                                                        {"bool_value: false", "false"},
                                                        {"int_value: -3", "-3"},
                                                        {"double_value: 1.5", "1.5"},
                                                        {R"pb(string_value: "a b")pb", "a b"},
                                                        {"null_value: NULL_VALUE", ""}};
  for (const auto& [value, text] : kCases)
    EXPECT_EQ(PropertyValueString(Parse<v1::AttributeValue>(value)), text) << value;
}

TEST(AttributesForTest, GroupAttributesComeFirstAndWinOverFieldLevelOnes) {
  auto field = Parse<v1::FieldSchema>(R"pb(
    field: "gt"
    type: "detections"
    classes { entries { name: "person" } }
    attributes {
      specs {
        specs { name: "color" type: "text" }
        specs { name: "note" type: "text" }
      }
    })pb");
  *field.mutable_classes()->add_entries() = testing::VehicleGroup({"car"});
  std::vector<std::string> car;
  for (const auto& s : AttributesFor(field, "car")) car.push_back(s.name() + ":" + s.type());
  EXPECT_THAT(car, ElementsAre("color:single_select", "doors:single_select", "parts:multi_select",
                               "plate:text", "note:text"));
  std::vector<std::string> person;
  for (const auto& s : AttributesFor(field, "person")) person.push_back(s.name() + ":" + s.type());
  EXPECT_THAT(person, ElementsAre("color:text", "note:text"));
}

TEST(DarwinSubTypesForTest, InstanceIdExceptForTagsAndTextWhenATextAttributeApplies) {
  const auto detections = Parse<v1::FieldSchema>(R"pb(
    field: "gt"
    type: "detections"
    attributes { specs { specs { name: "plate" type: "text" } } })pb");
  EXPECT_THAT(DarwinSubTypesFor(detections, "car"), ElementsAre("instance_id", "text"));
  const auto tags = Parse<v1::FieldSchema>(R"pb(field: "w" type: "classifications")pb");
  EXPECT_THAT(DarwinSubTypesFor(tags, "sunny"), IsEmpty());
}

}  // namespace
}  // namespace labelport::backend::darwin
