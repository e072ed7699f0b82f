// Parse: a protobuf message from its text format, for test inputs and
// expectations written as text protos.
#ifndef LABELPORT_TESTS_UNIT_COMMON_TEXT_PROTO_H_
#define LABELPORT_TESTS_UNIT_COMMON_TEXT_PROTO_H_

#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace labelport::testing {

// Parses a text-format proto; fails the test on a syntax error.
template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_TEXT_PROTO_H_
