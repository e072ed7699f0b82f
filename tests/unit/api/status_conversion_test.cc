#include "service/api/status_conversion.h"

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "service/common/errors.h"

namespace labelport::api {
namespace {

TEST(StatusConversionTest, FieldAndReasonBecomeDetails) {
  const grpc::Status status = ToGrpcStatus(common::InvalidArgument("header.anno_key", "R", "m"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "m");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "header.anno_key");
}

// A huge message would travel three times in the trailers, beyond what a
// client accepts (it would see RESOURCE_EXHAUSTED instead of the error).
TEST(StatusConversionTest, LongMessagesAndFieldsAreCut) {
  const std::string message(1 << 20, 'm');
  const std::string field(1 << 20, 'f');
  const grpc::Status status = ToGrpcStatus(common::InvalidArgument(field, "R", message));
  EXPECT_EQ(status.error_message(),
            std::string(kMaxErrorMessageBytes, 'm') + "\u2026(1048576 bytes)");
  EXPECT_LT(status.error_details().size(), 3 * kMaxErrorMessageBytes + 2 * kMaxErrorFieldBytes);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.message(), status.error_message());
}

TEST(StatusConversionTest, PlainErrorsKeepShortMessages) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("gone"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "gone");
  EXPECT_TRUE(status.error_details().empty());
}

}  // namespace
}  // namespace labelport::api
