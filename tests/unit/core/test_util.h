// Helpers shared by the labelport_core unit tests.
#ifndef LABELPORT_TESTS_UNIT_CORE_TEST_UTIL_H_
#define LABELPORT_TESTS_UNIT_CORE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "labelport/v1/sample.pb.h"
#include "service/common/errors.h"
#include "tests/unit/common/box_label.h"
#include "tests/unit/common/text_proto.h"

namespace labelport::core::testing {

inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Checks code, exact message, field payload and reason payload of an error.
inline void CheckError(const absl::Status& status, absl::StatusCode code, const std::string& field,
                       const std::string& reason, const std::string& message) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(std::string(status.message()), message);
  EXPECT_EQ(common::ErrorField(status).value_or("<no field>"), field);
  EXPECT_EQ(common::ErrorReason(status).value_or("<no reason>"), reason);
}

// Parses a text-format proto; fails the test on a syntax error.
using ::labelport::testing::Parse;

// An image sample `id` whose media is the file /data/<id>.jpg.
inline labelport::v1::Sample Image(const std::string& id) {
  labelport::v1::Sample s;
  s.set_id(id);
  s.set_media_type(labelport::v1::MEDIA_TYPE_IMAGE);
  s.mutable_media()->set_path("/data/" + id + ".jpg");
  return s;
}

// Appends field `field` holding `value` to `sample`.
inline void AddField(labelport::v1::Sample& sample, const std::string& field,
                     labelport::v1::FieldValue value) {
  labelport::v1::SampleField* sf = sample.add_fields();
  sf->set_field(field);
  *sf->mutable_value() = std::move(value);
}

// Image(id) with field `field` holding `value` (a FieldValue, or its text
// format).
inline labelport::v1::Sample ImageWith(const std::string& id, const std::string& field,
                                       labelport::v1::FieldValue value) {
  labelport::v1::Sample sample = Image(id);
  AddField(sample, field, std::move(value));
  return sample;
}
inline labelport::v1::Sample ImageWith(const std::string& id, const std::string& field,
                                       const std::string& value) {
  return ImageWith(id, field, Parse<labelport::v1::FieldValue>(value));
}

// A box `id` labelled `label` at `bounding_box` (x, y, width, height).
using ::labelport::testing::BoxLabel;

// Box `id` labelled `label` with an instance mask of `width` x `height`
// pixels holding `mask`.
inline labelport::v1::Detection MaskedBox(const std::string& id, const std::string& label,
                                          uint32_t width, uint32_t height, std::string mask,
                                          const std::vector<double>& bounding_box = {0, 0, 1, 1}) {
  labelport::v1::Detection box = BoxLabel(id, label, bounding_box);
  box.set_has_mask(true);
  box.mutable_instance_mask()->set_width(width);
  box.mutable_instance_mask()->set_height(height);
  box.mutable_instance_mask()->set_mask(std::move(mask));
  return box;
}

// A "detections" value holding `boxes`.
inline labelport::v1::FieldValue Detections(std::vector<labelport::v1::Detection> boxes) {
  labelport::v1::FieldValue value;
  for (labelport::v1::Detection& box : boxes)
    *value.mutable_detections()->add_detections() = std::move(box);
  return value;
}

// Boxes d1 "cat" and d2 "dog"; the dog has a mask (an instance, which a
// "detections" field leaves out).
inline labelport::v1::FieldValue CatAndMaskedDog() {
  labelport::v1::Detection dog = BoxLabel("d2", "dog");
  dog.set_has_mask(true);
  return Detections({BoxLabel("d1", "cat"), dog});
}

}  // namespace labelport::core::testing

// EXPECT_ERROR(status_or_statusor, code, field, reason, message)
#define EXPECT_ERROR(expr, code, field, reason, message)                                       \
  do {                                                                                         \
    SCOPED_TRACE(#expr);                                                                       \
    ::labelport::core::testing::CheckError(::labelport::core::testing::StatusOf(expr), (code), \
                                           (field), (reason), (message));                      \
  } while (false)

#define EXPECT_INVALID(expr, field, reason, message) \
  EXPECT_ERROR(expr, absl::StatusCode::kInvalidArgument, field, reason, message)

#endif  // LABELPORT_TESTS_UNIT_CORE_TEST_UTIL_H_
