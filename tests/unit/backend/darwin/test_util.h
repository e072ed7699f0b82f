// Helpers shared by the labelport_darwin unit tests.
#ifndef LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_
#define LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_

#include <string>

#include "gtest/gtest.h"
#include "labelport/v1/labels.pb.h"
#include "tests/unit/common/text_proto.h"

namespace labelport::backend::darwin::testing {

// Parses a text-format proto; fails the test on a syntax error.
using ::labelport::testing::Parse;

// A text-format FieldValue.
inline labelport::v1::FieldValue Value(const std::string& text) {
  return Parse<labelport::v1::FieldValue>(text);
}

}  // namespace labelport::backend::darwin::testing

#endif  // LABELPORT_TESTS_UNIT_BACKEND_DARWIN_TEST_UTIL_H_
