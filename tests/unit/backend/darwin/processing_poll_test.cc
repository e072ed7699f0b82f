// The processing wait's pure part: when it polls, and what V7 says of an
// uploaded item.
#include "service/backend/darwin/processing_poll.h"

#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

namespace iv1 = labelport::internal::v1;
using labelport::internal::v1::SampleProgress;

DarwinItem Item(const std::string& status, const std::string& processing_status = "") {
  DarwinItem item;
  item.name = "a.jpg";
  item.status = status;
  item.processing_status = processing_status;
  return item;
}

TEST(ShouldPollNowTest, AfterTheUploadsAlways) {
  EXPECT_TRUE(ShouldPollNow(false, 1, absl::ZeroDuration(), absl::Seconds(5)));
  EXPECT_TRUE(ShouldPollNow(false, 0, absl::ZeroDuration(), absl::Seconds(5)));
}

TEST(ShouldPollNowTest, DuringTheUploadsOnlyABatchOrAfterPollMax) {
  const absl::Duration max = absl::Seconds(5);
  EXPECT_FALSE(ShouldPollNow(true, 0, absl::InfiniteDuration(), max));
  EXPECT_FALSE(ShouldPollNow(true, kPollBatchWhileUploading - 1, absl::Seconds(4), max));
  EXPECT_TRUE(ShouldPollNow(true, kPollBatchWhileUploading, absl::ZeroDuration(), max));
  EXPECT_TRUE(ShouldPollNow(true, 1, absl::Seconds(5), max));
  // Never polled yet.
  EXPECT_TRUE(ShouldPollNow(true, 1, absl::Now() - absl::InfinitePast(), max));
}

TEST(ProcessingTimedOutTest, TheDeadlineMovesByV7sDownTime) {
  const absl::Time deadline = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(ProcessingTimedOut(deadline, deadline, absl::ZeroDuration()));
  EXPECT_TRUE(ProcessingTimedOut(deadline + absl::Seconds(1), deadline, absl::ZeroDuration()));
  EXPECT_FALSE(ProcessingTimedOut(deadline + absl::Seconds(1), deadline, absl::Seconds(60)));
  EXPECT_TRUE(ProcessingTimedOut(deadline + absl::Seconds(61), deadline, absl::Seconds(60)));
}

TEST(ProcessingTimeoutTest, CountsTheItemsAndNamesTheLastFailedPoll) {
  const absl::Status plain = ProcessingTimeout(3, absl::Minutes(30), absl::OkStatus());
  EXPECT_EQ(plain.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(plain.message(), "3 V7 items did not finish processing within 30m");
  EXPECT_EQ(ProcessingTimeout(1, absl::Seconds(5), absl::UnavailableError("V7 is down")).message(),
            "1 V7 items did not finish processing within 5s (last poll: V7 is down)");
}

TEST(ClassifyTest, StatusesOfV7Items) {
  EXPECT_EQ(Classify(Item("uploading")), PolledItem::kWaiting);
  EXPECT_EQ(Classify(Item("processing")), PolledItem::kWaiting);
  for (const char* done : {"new", "annotate", "review", "complete", "archived"})
    EXPECT_EQ(Classify(Item(done)), PolledItem::kProcessed) << done;
  // A processed status while the slot still processes.
  EXPECT_EQ(Classify(Item("new", "processing")), PolledItem::kWaiting);
  for (const char* error : {"error", "errored", "failed"}) {
    EXPECT_EQ(Classify(Item(error)), PolledItem::kFailed) << error;
    EXPECT_EQ(Classify(Item("new", error)), PolledItem::kFailed);
  }
}

TEST(ProcessingFailureTest, NamesTheItemAndItsStatus) {
  EXPECT_EQ(ProcessingFailure(Item("error")),
            "V7 could not process the media of item 'a.jpg' (status error)");
}

TEST(ProcessedRecordTest, TakesV7sMeasurementsAndTheNextStep) {
  SampleProgress p;
  p.set_position(4);
  p.set_step(iv1::SAMPLE_STEP_UPLOADED);
  DarwinItem item = Item("new");
  DarwinSlot slot;
  slot.width = 640;
  slot.height = 480;
  slot.fps = 25;
  slot.frame_count = 100;
  item.slots.push_back(slot);
  const SampleProgress labelled = ProcessedRecord(p, item, /*has_labels=*/true);
  EXPECT_EQ(labelled.step(), iv1::SAMPLE_STEP_PROCESSED);
  EXPECT_EQ(labelled.width(), 640);
  EXPECT_EQ(labelled.height(), 480);
  EXPECT_DOUBLE_EQ(labelled.fps(), 25);
  EXPECT_EQ(labelled.frame_count(), 100);
  EXPECT_EQ(labelled.position(), 4);
  EXPECT_EQ(ProcessedRecord(p, Item("new"), false).step(), iv1::SAMPLE_STEP_LABELS_IMPORTED);
  EXPECT_EQ(ProcessedRecord(p, Item("new"), false).width(), 0);
}

}  // namespace
}  // namespace labelport::backend::darwin
