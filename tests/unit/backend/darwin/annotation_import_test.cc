// The annotation import's pure part: which samples have labels, and one
// sample's import request and links.
#include "service/backend/darwin/annotation_import.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;
using ::testing::HasSubstr;
using testing::Parse;
using ::testing::SizeIs;

TEST(HasLabelsTest, SampleAndFrameValues) {
  EXPECT_FALSE(HasLabels(Parse<v1::Sample>(R"pb(id: "a"
                                                fields { field: "gt" })pb")));
  EXPECT_TRUE(HasLabels(Parse<v1::Sample>(R"pb(fields {
                                                 field: "gt"
                                                 value { classification { id: "c" label: "x" } }
                                               })pb")));
  EXPECT_TRUE(HasLabels(Parse<v1::Sample>(R"pb(
    fields {
      field: "gt"
      frames {
        frame_number: 2
        value { classification { id: "c" label: "x" } }
      }
    }
  )pb")));
  EXPECT_FALSE(HasLabels(Parse<v1::Sample>(R"pb(fields {
                                                  field: "gt"
                                                  frames { frame_number: 2 }
                                                })pb")));
}

class EncodeSampleLabelsTest : public ::testing::Test {
 protected:
  EncodeSampleLabelsTest() {
    run_ = Parse<v1::AnnotationRun>(R"pb(
      uid: "run-1"
      label_schema { fields { field: "gt" type: "classification" } }
    )pb");
    record_.set_item_id("item-1");
    record_.set_width(100);
    record_.set_height(50);
  }

  v1::AnnotationRun run_;
  SampleProgress record_;
  google::protobuf::Map<std::string, int64_t> class_ids_;
  ResolvedProperties properties_;
};

TEST_F(EncodeSampleLabelsTest, EncodesSchemaFieldsWithTheirLinks) {
  class_ids_["cat|tag"] = 9;
  const v1::Sample sample =
      testing::ClassifiedSample("s1", {{"gt", "c1", "cat"}, {"not_in_schema", "c2", "dog"}});
  auto encoded = EncodeSampleLabels(sample, record_, run_, class_ids_, properties_);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  ASSERT_THAT(encoded->annotations, SizeIs(1));
  EXPECT_EQ(encoded->annotations[0].as_object().at("annotation_class_id").to_number<int64_t>(), 9);
  ASSERT_THAT(encoded->links, SizeIs(1));
  EXPECT_EQ(encoded->links[0].item_id(), "item-1");
}

TEST_F(EncodeSampleLabelsTest, AClassWithoutAV7ClassIsNotFound) {
  const v1::Sample sample = testing::ClassifiedSample("s1", {{"gt", "c1", "cat"}});
  auto encoded = EncodeSampleLabels(sample, record_, run_, class_ids_, properties_);
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(encoded.status().message(), HasSubstr("no V7 class for 'cat' (tag)"));
}

TEST_F(EncodeSampleLabelsTest, AFrameBeyondTheVideoFails) {
  class_ids_["cat|tag"] = 9;
  record_.set_frame_count(10);
  const auto sample = Parse<v1::Sample>(R"pb(
    id: "v1"
    fields {
      field: "gt"
      frames {
        frame_number: 11
        value { classification { id: "c1" label: "cat" } }
      }
    }
  )pb");
  auto encoded = EncodeSampleLabels(sample, record_, run_, class_ids_, properties_);
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoded.status().message(),
            "Sample 'v1' field 'gt': frame 11 is beyond the 10 frames V7 found in the video");
}

}  // namespace
}  // namespace labelport::backend::darwin
