// The upload job's compact index: steps and flags per sample, what a resume
// makes of the records an earlier job left, and matching listed V7 items
// with waiting samples by item hash.
#include "service/backend/darwin/upload_index.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::backend::darwin {
namespace {

using labelport::internal::v1::SampleProgress;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace iv1 = labelport::internal::v1;

SampleProgress Record(int64_t position, iv1::SampleStep step, const std::string& item_id = "",
                      const std::string& error_stage = "") {
  SampleProgress p;
  p.set_position(position);
  p.set_step(step);
  p.set_item_id(item_id);
  if (!error_stage.empty()) {
    p.set_error_stage(error_stage);
    p.set_error_message("it broke");
  }
  return p;
}

// Makes `index` one of `size` samples without labels, in one window, then
// indexes `records` as this job's progress.
void Fill(UploadIndex* index, int64_t size, const std::vector<SampleProgress>& records) {
  index->Reset(size);
  index->AddWindow(0, std::vector<bool>(size, false), {});
  for (const SampleProgress& p : records) index->Index(p);
}

TEST(ItemHashTest, NoItemIsZeroAndAnItemNever) {
  EXPECT_EQ(ItemHash(""), 0u);
  EXPECT_NE(ItemHash("a"), 0u);
  EXPECT_EQ(ItemHash("item-1"), ItemHash("item-1"));
  EXPECT_NE(ItemHash("item-1"), ItemHash("item-2"));
}

TEST(RetryStepOfTest, FailedRecordsRetryFromTheStepBeforeTheFailure) {
  EXPECT_EQ(RetryStepOf(Record(0, iv1::SAMPLE_STEP_FAILED, "", "register")),
            iv1::SAMPLE_STEP_UNSPECIFIED);
  EXPECT_EQ(RetryStepOf(Record(0, iv1::SAMPLE_STEP_FAILED, "i", "import_labels")),
            iv1::SAMPLE_STEP_PROCESSED);
  EXPECT_EQ(RetryStepOf(Record(0, iv1::SAMPLE_STEP_FAILED, "i", "upload")),
            iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(RetryStepOf(Record(0, iv1::SAMPLE_STEP_FAILED, "i", "process")),
            iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(RetryStepOf(Record(0, iv1::SAMPLE_STEP_UPLOADED, "i")), iv1::SAMPLE_STEP_UPLOADED);
}

TEST(AsRetriedTest, ARetriedFailureReadsAsItsRetryStepWithOneMoreAttempt) {
  SampleProgress failed = Record(3, iv1::SAMPLE_STEP_FAILED, "i", "upload");
  failed.set_attempts(1);
  const SampleProgress p = AsRetried(failed, iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(p.step(), iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(p.attempts(), 2);
  EXPECT_TRUE(p.error_stage().empty());
  EXPECT_TRUE(p.error_message().empty());
  EXPECT_EQ(p.item_id(), "i");
}

TEST(AsRetriedTest, AFailureOfThisJobAndOtherStepsStandAsStored) {
  const SampleProgress failed = Record(3, iv1::SAMPLE_STEP_FAILED, "i", "upload");
  EXPECT_EQ(AsRetried(failed, iv1::SAMPLE_STEP_FAILED).error_stage(), "upload");
  const SampleProgress uploaded = Record(3, iv1::SAMPLE_STEP_UPLOADED, "i");
  EXPECT_EQ(AsRetried(uploaded, iv1::SAMPLE_STEP_PROCESSED).step(), iv1::SAMPLE_STEP_UPLOADED);
}

TEST(UploadIndexTest, AddWindowIndexesRecordsAsResumedAtTheirRetryStep) {
  UploadIndex index;
  index.Reset(5);
  index.AddWindow(0, {true, false, true},
                  {Record(1, iv1::SAMPLE_STEP_FAILED, "i1", "upload"),
                   Record(2, iv1::SAMPLE_STEP_UPLOADED, "i2"),
                   // Outside the window: ignored.
                   Record(7, iv1::SAMPLE_STEP_UPLOADED, "i7")});
  index.AddWindow(3, {false, false}, {});
  EXPECT_EQ(index.size(), 5);
  EXPECT_EQ(index.StepAt(0), iv1::SAMPLE_STEP_UNSPECIFIED);
  EXPECT_EQ(index.StepAt(1), iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(index.StepAt(2), iv1::SAMPLE_STEP_UPLOADED);
  EXPECT_TRUE(index.HasLabelsAt(0));
  EXPECT_FALSE(index.HasLabelsAt(1));
  EXPECT_TRUE(index.HasLabelsAt(2));
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_REGISTERED, 0, 5, 10, UploadIndex::kResumed),
              ElementsAre(1));
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_UNSPECIFIED, 0, 5, 10, UploadIndex::kResumed),
              IsEmpty());
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_UNSPECIFIED, 0, 5, 10), ElementsAre(0, 3, 4));
}

TEST(UploadIndexTest, IndexKeepsFlagsAndResetStartsAfresh) {
  UploadIndex index;
  index.Reset(2);
  index.AddWindow(0, {true, false}, {});
  index.Index(Record(0, iv1::SAMPLE_STEP_PROCESSED, "i0"));
  EXPECT_EQ(index.StepAt(0), iv1::SAMPLE_STEP_PROCESSED);
  EXPECT_TRUE(index.HasLabelsAt(0));
  index.SetFlag(1, UploadIndex::kResumed);
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_UNSPECIFIED, 0, 2, 10, UploadIndex::kResumed),
              ElementsAre(1));
  index.ClearFlagEverywhere(UploadIndex::kResumed);
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_UNSPECIFIED, 0, 2, 10, UploadIndex::kResumed),
              IsEmpty());
  index.Reset(0);
  EXPECT_EQ(index.size(), 0);
}

TEST(UploadIndexTest, CountsAndPositionsRespectRangeAndMaximum) {
  UploadIndex index;
  Fill(&index, 6,
       {Record(1, iv1::SAMPLE_STEP_REGISTERED, "x"), Record(2, iv1::SAMPLE_STEP_REGISTERED, "x"),
        Record(4, iv1::SAMPLE_STEP_REGISTERED, "x"), Record(5, iv1::SAMPLE_STEP_REGISTERED, "x")});
  EXPECT_EQ(index.CountAt(iv1::SAMPLE_STEP_REGISTERED), 4u);
  EXPECT_EQ(index.CountAt(iv1::SAMPLE_STEP_UNSPECIFIED), 2u);
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_REGISTERED, 2, 100, 2), ElementsAre(2, 4));
  EXPECT_THAT(index.PositionsAt(iv1::SAMPLE_STEP_REGISTERED, 0, 2, 10), ElementsAre(1));
}

TEST(UploadIndexTest, NextAtWalksTheStepInPositionOrder) {
  UploadIndex index;
  Fill(&index, 4,
       {Record(1, iv1::SAMPLE_STEP_REGISTERED, "a"), Record(3, iv1::SAMPLE_STEP_REGISTERED, "b")});
  int64_t cursor = 0;
  EXPECT_EQ(index.NextAt(iv1::SAMPLE_STEP_REGISTERED, &cursor), std::optional<int64_t>(1));
  EXPECT_EQ(index.NextAt(iv1::SAMPLE_STEP_REGISTERED, &cursor), std::optional<int64_t>(3));
  EXPECT_EQ(index.NextAt(iv1::SAMPLE_STEP_REGISTERED, &cursor), std::nullopt);
  EXPECT_EQ(cursor, 4);
}

TEST(UploadIndexTest, MatchItemsFindsWaitingPositionsByItemId) {
  UploadIndex index;
  Fill(&index, 4,
       {Record(0, iv1::SAMPLE_STEP_UPLOADED, "item-a"),
        Record(1, iv1::SAMPLE_STEP_REGISTERED, "item-b"),
        Record(2, iv1::SAMPLE_STEP_UPLOADED, "item-c"),
        Record(3, iv1::SAMPLE_STEP_UPLOADED, "item-d")});
  const std::vector<uint32_t> by_hash = index.PositionsByItemHash(iv1::SAMPLE_STEP_UPLOADED);
  EXPECT_EQ(by_hash.size(), 3u);
  std::vector<DarwinItem> page(4);
  page[0].id = "item-d";
  page[1].id = "item-b";  // not waiting
  page[2].id = "other";
  page[3].id = "item-a";
  EXPECT_THAT(index.MatchItems(by_hash, page),
              ElementsAre(std::pair<int64_t, size_t>(0, 3), std::pair<int64_t, size_t>(3, 0)));
}

}  // namespace
}  // namespace labelport::backend::darwin
