// The registration step's pure part: item names and folders, batching by
// kind, and what V7's answers mean for a sample's record.
#include "service/backend/darwin/item_registration.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/backend/darwin/test_util.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
namespace iv1 = labelport::internal::v1;
using labelport::internal::v1::SampleProgress;
using ::testing::ElementsAre;
using testing::Parse;

TEST(SafeSegmentTest, KeepsSafeCharactersAndEscapesOthers) {
  EXPECT_EQ(SafeSegment("abc-1_2.x"), "abc-1_2.x");
  EXPECT_EQ(SafeSegment("a/b c"), "a~2fb~20c");
  EXPECT_EQ(SafeSegment("~"), "~7e");
}

// The item a sample registers as in the folder of a run with uid `run_uid`.
struct RegistrationCase {
  const char* name;
  const char* sample;  // text format
  std::string run_uid;
  ItemRegistration expected;
};

TEST(RegistrationOfTest, NamesTheItemAfterItsFileInTheRunsSampleFolder) {
  const RegistrationCase cases[] = {
      {"an image file",
       R"pb(
         id: "s/1"
         media { path: "/data/cats/img 1.jpg" }
         media_type: MEDIA_TYPE_IMAGE
       )pb",
       "0123456789abcdef",
       {.name = "img 1.jpg",
        .path = "/0123456789ab/s~2f1",
        .file_name = "img 1.jpg",
        .type = "image",
        .storage_key = ""}},
      {"a video in external storage",
       R"pb(
         id: "v"
         media { storage { storage_slug: "s3" storage_key: "videos/a.mp4" } }
         media_type: MEDIA_TYPE_VIDEO
       )pb",
       "run",
       {.name = "a.mp4",
        .path = "/run/v",
        .file_name = "a.mp4",
        .type = "video",
        .storage_key = "videos/a.mp4"}},
  };
  for (const RegistrationCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ItemRegistration r = RegistrationOf(Parse<v1::Sample>(c.sample), c.run_uid);
    EXPECT_EQ(r.name, c.expected.name);
    EXPECT_EQ(r.path, c.expected.path);
    EXPECT_EQ(r.file_name, c.expected.file_name);
    EXPECT_EQ(r.type, c.expected.type);
    EXPECT_EQ(r.storage_key, c.expected.storage_key);
  }
}

TEST(StorageSlugOfTest, TheSamplesOwnElseTheRuns) {
  const auto own = Parse<v1::Sample>(R"pb(media { storage { storage_slug: "mine" } })pb");
  const auto none = Parse<v1::Sample>(R"pb(media { storage { storage_key: "k" } })pb");
  EXPECT_EQ(StorageSlugOf(own, "run-default"), "mine");
  EXPECT_EQ(StorageSlugOf(none, "run-default"), "run-default");
}

TEST(RegistrationBatchesTest, UploadsFirstThenEachStorageInBatches) {
  std::vector<v1::Sample> samples = {
      Parse<v1::Sample>(R"pb(media { storage { storage_slug: "b" storage_key: "0" } })pb"),
      Parse<v1::Sample>(R"pb(media { path: "/1" })pb"),
      Parse<v1::Sample>(R"pb(media { storage { storage_key: "2" } })pb"),  // run's: "a"
      Parse<v1::Sample>(R"pb(media { url: "https://x/3" })pb"),
      Parse<v1::Sample>(R"pb(media { path: "/4" })pb"),
      Parse<v1::Sample>(R"pb(media { storage { storage_slug: "b" storage_key: "5" } })pb"),
      Parse<v1::Sample>(R"pb(media { path: "/6" })pb"),
  };
  const std::vector<RegistrationBatch> batches =
      RegistrationBatches(samples, {0, 1, 2, 3, 5, 6}, "a", 2);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_FALSE(batches[0].storage);
  EXPECT_THAT(batches[0].members, ElementsAre(1, 3));
  EXPECT_FALSE(batches[1].storage);
  EXPECT_THAT(batches[1].members, ElementsAre(6));
  EXPECT_TRUE(batches[2].storage);
  EXPECT_EQ(batches[2].storage_slug, "a");
  EXPECT_THAT(batches[2].members, ElementsAre(2));
  EXPECT_TRUE(batches[3].storage);
  EXPECT_EQ(batches[3].storage_slug, "b");
  EXPECT_THAT(batches[3].members, ElementsAre(0, 5));
}

// V7's answer for one registered item.
RegisteredItem Answer(const std::string& item_id, const std::string& upload_id,
                      const std::string& blocked_reason = "", const std::string& name = "a.jpg") {
  RegisteredItem item;
  item.name = name;
  item.item_id = item_id;
  item.upload_id = upload_id;
  item.blocked_reason = blocked_reason;
  return item;
}

DarwinItem Item(const std::string& status, std::vector<std::string> pending_upload_ids = {}) {
  DarwinItem item;
  item.id = "item";
  item.status = status;
  item.pending_upload_ids = std::move(pending_upload_ids);
  return item;
}

TEST(ApplyRegisteredTest, AnUploadIsRegisteredWithItsUploadId) {
  SampleProgress p;
  EXPECT_FALSE(ApplyRegistered(Answer("i", "u"), /*storage=*/false, &p));
  EXPECT_EQ(p.step(), iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(p.item_id(), "i");
  EXPECT_EQ(p.upload_id(), "u");
}

TEST(ApplyRegisteredTest, AnItemInExternalStorageNeedsNoUpload) {
  SampleProgress p;
  EXPECT_FALSE(ApplyRegistered(Answer("i", ""), /*storage=*/true, &p));
  EXPECT_EQ(p.step(), iv1::SAMPLE_STEP_UPLOADED);
}

TEST(ApplyRegisteredTest, AnExistingItemIsOursAndReReadFromV7) {
  SampleProgress p;
  EXPECT_TRUE(ApplyRegistered(Answer("i", "", "already_exists"), false, &p));
  EXPECT_EQ(p.step(), iv1::SAMPLE_STEP_REGISTERED);
  EXPECT_EQ(p.item_id(), "i");
  EXPECT_TRUE(p.upload_id().empty());
}

TEST(ApplyRegisteredTest, OtherRefusalsFailTheSample) {
  SampleProgress p;
  EXPECT_FALSE(ApplyRegistered(Answer("", "", "ALREADY_EXISTS", "a.jpg"), false, &p));
  EXPECT_EQ(p.step(), iv1::SAMPLE_STEP_FAILED);
  EXPECT_EQ(p.error_stage(), "register");
  EXPECT_EQ(p.error_message(), "V7 refused the item 'a.jpg': ALREADY_EXISTS");
  SampleProgress q;
  EXPECT_FALSE(ApplyRegistered(Answer("i", "", "QUOTA", "b.jpg"), false, &q));
  EXPECT_EQ(q.step(), iv1::SAMPLE_STEP_FAILED);
}

// A resumed REGISTERED record with `upload_id`, what V7 says of its item, and
// what ApplyResumedItem makes of the record.
struct ResumeCase {
  const char* name;
  std::string upload_id;
  std::optional<DarwinItem> item;  // absent: V7 no longer has it
  std::optional<std::string> orphan;
  iv1::SampleStep step;
  std::string item_id_after;
  std::string upload_id_after;
};

TEST(ApplyResumedItemTest, EachAnswerOfV7) {
  const ResumeCase cases[] = {
      {"a vanished item is registered again", "u", std::nullopt, std::nullopt,
       iv1::SAMPLE_STEP_UNSPECIFIED, "", ""},
      {"an uploading item takes its pending upload id", "", Item("uploading", {"u2"}), std::nullopt,
       iv1::SAMPLE_STEP_REGISTERED, "item", "u2"},
      {"an uploading item without any upload id is an orphan", "", Item("uploading"), "item",
       iv1::SAMPLE_STEP_UNSPECIFIED, "", ""},
      {"an uploading item keeps a recorded upload id", "u1", Item("uploading"), std::nullopt,
       iv1::SAMPLE_STEP_REGISTERED, "item", "u1"},
      {"any other status means uploaded", "u1", Item("processing"), std::nullopt,
       iv1::SAMPLE_STEP_UPLOADED, "item", "u1"},
  };
  for (const ResumeCase& c : cases) {
    SCOPED_TRACE(c.name);
    SampleProgress p;
    p.set_step(iv1::SAMPLE_STEP_REGISTERED);
    p.set_item_id("item");
    p.set_upload_id(c.upload_id);
    EXPECT_EQ(ApplyResumedItem(c.item ? &*c.item : nullptr, &p), c.orphan);
    EXPECT_EQ(p.step(), c.step);
    EXPECT_EQ(p.item_id(), c.item_id_after);
    EXPECT_EQ(p.upload_id(), c.upload_id_after);
  }
}

}  // namespace
}  // namespace labelport::backend::darwin
