#include "service/backend/darwin/darwin_run_state.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

using labelport::internal::v1::DarwinRunState;
using ::testing::HasSubstr;

constexpr char kRun[] = "'datasets/d/runs/k' (uid run-1)";

DarwinRunState SomeState() {
  DarwinRunState state;
  state.set_team_slug("team");
  state.set_dataset_id(42);
  state.set_dataset_created(true);
  (*state.mutable_class_ids())["cat|bounding_box"] = 7;
  return state;
}

TEST(DarwinRunStateTest, PackedStateNamesItsMessageAndUnpacks) {
  const google::protobuf::Any packed = PackDarwinRunState(SomeState());
  EXPECT_EQ(packed.type_url(), "type.googleapis.com/labelport.internal.v1.DarwinRunState");
  absl::StatusOr<DarwinRunState> unpacked = UnpackDarwinRunState(packed, kRun);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  EXPECT_EQ(unpacked->SerializeAsString(), SomeState().SerializeAsString());
}

TEST(DarwinRunStateTest, NothingSavedIsAnEmptyState) {
  absl::StatusOr<DarwinRunState> unpacked = UnpackDarwinRunState(google::protobuf::Any(), kRun);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  EXPECT_EQ(unpacked->dataset_id(), 0);
  EXPECT_TRUE(unpacked->class_ids().empty());
}

TEST(DarwinRunStateTest, AnotherBackendsStateIsRefusedNamingRunAndBothTypes) {
  google::protobuf::Any other;
  other.PackFrom(google::protobuf::Timestamp());
  absl::StatusOr<DarwinRunState> unpacked = UnpackDarwinRunState(other, kRun);
  ASSERT_EQ(unpacked.status().code(), absl::StatusCode::kFailedPrecondition) << unpacked.status();
  EXPECT_EQ(unpacked.status().message(),
            "run 'datasets/d/runs/k' (uid run-1) has a backend state of type "
            "'type.googleapis.com/google.protobuf.Timestamp'; the darwin backend keeps "
            "'labelport.internal.v1.DarwinRunState' (was the run made by another backend?)");
}

TEST(DarwinRunStateTest, CorruptBytesAreDataLoss) {
  google::protobuf::Any corrupt = PackDarwinRunState(SomeState());
  corrupt.set_value(std::string("\xff\xff\xff", 3));
  absl::StatusOr<DarwinRunState> unpacked = UnpackDarwinRunState(corrupt, kRun);
  ASSERT_EQ(unpacked.status().code(), absl::StatusCode::kDataLoss) << unpacked.status();
  EXPECT_THAT(unpacked.status().message(), HasSubstr("run 'datasets/d/runs/k' (uid run-1)"));
  EXPECT_THAT(unpacked.status().message(), HasSubstr("DarwinRunState"));
}

}  // namespace
}  // namespace labelport::backend::darwin
