// RoundTripFixture: the base of the tests that take labels through V7 and
// back. The snapshot "sample-1" gets a value in the schema's first field,
// encoded for import into a `width` x `height` image (the links kept); the
// Darwin JSON 2.0 file V7 would export for it is decoded against the snapshot.
#ifndef LABELPORT_TESTS_UNIT_BACKEND_DARWIN_ROUND_TRIP_FIXTURE_H_
#define LABELPORT_TESTS_UNIT_BACKEND_DARWIN_ROUND_TRIP_FIXTURE_H_

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/annotation_service.pb.h"
#include "labelport/v1/label_schema.pb.h"
#include "labelport/v1/labels.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/annotation_decoder.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/darwin_json.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin::testing {

class RoundTripFixture : public ::testing::Test {
 protected:
  // `schema` in text format; V7's classes `class_ids`.
  RoundTripFixture(const std::string& schema, ClassIds class_ids, int width, int height)
      : schema_(Parse<labelport::v1::LabelSchema>(schema)),
        class_ids_(std::move(class_ids)),
        width_(width),
        height_(height) {
    snapshot_.set_id("sample-1");
  }

  // Adds `value` to the snapshot as the first field's and encodes it: the
  // import payload goes to `payload_`, the links to `links_`.
  void Upload(const labelport::v1::FieldValue& value) {
    labelport::v1::SampleField* field = snapshot_.add_fields();
    field->set_field(schema_.fields(0).field());
    *field->mutable_value() = value;
    EncodeContext context = TestEncodeContext(&class_ids_, width_, height_);
    context.field = &schema_.fields(0);
    auto encoded = EncodeFieldValue(value, context);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    payload_ = encoded->annotations;
    for (const auto& link : encoded->links) links_[link.annotation_id()] = link;
  }

  // The export form of `payload_`: each annotation's data with its id, class
  // name and slot names.
  boost::json::array ExportedPayload() const {
    std::map<int64_t, std::string> names;
    for (const auto& [key, id] : class_ids_) names[id] = key.first;
    boost::json::array annotations;
    for (const auto& v : payload_) {
      const boost::json::object& a = v.as_object();
      boost::json::object out = a.at("data").as_object();
      out["id"] = a.at("id");
      out["name"] = names.at(a.at("annotation_class_id").to_number<int64_t>());
      out["slot_names"] = a.at("context_keys").at("slot_names");
      annotations.emplace_back(std::move(out));
    }
    return annotations;
  }

  // The first field's value decoded from the export of `annotations` (which
  // must read without skips); what DecodeItem skips goes to `skipped_`.
  labelport::v1::FieldValue Load(boost::json::array annotations) {
    auto item = DecodeDarwinJson(
        ExportFileJson("a.png", "/", ExportSlot("image", width_, height_), std::move(annotations)),
        "a.json");
    EXPECT_TRUE(item.ok()) << item.status();
    if (!item.ok()) return {};
    EXPECT_THAT(item->skipped, ::testing::IsEmpty());
    skipped_.clear();
    auto loaded = DecodeItem(*item, snapshot_, schema_, links_, &skipped_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok()) return {};
    EXPECT_EQ(loaded->fields[0].field, schema_.fields(0).field());
    return loaded->fields[0].downloaded;
  }

  labelport::v1::LabelSchema schema_;
  ClassIds class_ids_;
  int width_;
  int height_;
  labelport::v1::Sample snapshot_;
  boost::json::array payload_;
  std::map<std::string, labelport::internal::v1::AnnotationLink> links_;
  std::vector<labelport::v1::SkippedEntry> skipped_;
};

}  // namespace labelport::backend::darwin::testing

#endif  // LABELPORT_TESTS_UNIT_BACKEND_DARWIN_ROUND_TRIP_FIXTURE_H_
