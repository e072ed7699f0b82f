#include "service/store/content_store.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/common/errors.h"
#include "tests/unit/common/content_digest.h"

namespace labelport::store {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::labelport::testing::ContentDigest;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) ++n;
  return n;
}

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            absl::StrCat("content_store_test_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
                         ::getpid()))
               .string();
    fs::remove_all(dir_);
    auto created = FileContentStore::Create(dir_ + "/media");
    ASSERT_TRUE(created.ok()) << created.status();
    store_ = *std::move(created);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string media_dir() const { return dir_ + "/media"; }
  size_t TempFiles() const { return CountFiles(media_dir() + "/tmp"); }

  // Writes `bytes` in `chunk`-sized pieces under `digest` and commits.
  absl::StatusOr<StoredContent> Write(const std::string& digest, const std::string& bytes,
                                      size_t chunk = 256 * 1024, int64_t size = -1) {
    auto writer = store_->BeginWrite(digest, size < 0 ? static_cast<int64_t>(bytes.size()) : size);
    if (!writer.ok()) return writer.status();
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      absl::Status appended = (*writer)->Append(absl::string_view(bytes).substr(at, chunk));
      if (!appended.ok()) return appended;
    }
    return (*writer)->Commit();
  }

  std::string dir_;
  std::unique_ptr<FileContentStore> store_;
};

TEST_F(ContentStoreTest, RoundTripStoresVerifiedBytesAtTheContentPath) {
  const std::string bytes = RandomBytes(3 * 1000 * 1000, 1);
  const std::string digest = ContentDigest(bytes);
  ASSERT_FALSE(*store_->Contains(digest));

  auto stored = Write(digest, bytes);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->content_digest, digest);
  EXPECT_EQ(stored->size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(stored->already_present);

  const std::string hex = digest.substr(7);
  const std::string path = absl::StrCat(media_dir(), "/sha256/", hex.substr(0, 2), "/", hex);
  // The upload pipeline (common::ContentPath, as backend::darwin::OpenMedia) reads
  // content-digest media from exactly this path.
  EXPECT_EQ(FileContentStore::ContentPath(media_dir(), digest), path);
  EXPECT_EQ(ReadFile(path), bytes);
  EXPECT_TRUE(*store_->Contains(digest));
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(ContentStoreTest, EmptyContentRoundTrips) {
  const std::string digest = ContentDigest("");
  auto stored = Write(digest, "");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->size_bytes, 0);
  EXPECT_TRUE(*store_->Contains(digest));
  EXPECT_EQ(ReadFile(FileContentStore::ContentPath(media_dir(), digest)), "");
}

TEST_F(ContentStoreTest, DigestMismatchIsRejectedNamingBothDigestsAndStoresNothing) {
  const std::string bytes = RandomBytes(10000, 2);
  const std::string claimed = ContentDigest("something else");
  const std::string actual = ContentDigest(bytes);

  auto stored = Write(claimed, bytes, 4096);
  ASSERT_EQ(stored.status().code(), absl::StatusCode::kInvalidArgument) << stored.status();
  EXPECT_THAT(stored.status().message(), HasSubstr(claimed));
  EXPECT_THAT(stored.status().message(), HasSubstr(actual));
  EXPECT_EQ(common::ErrorField(stored.status()), "header.content_digest");
  EXPECT_FALSE(*store_->Contains(claimed));
  EXPECT_FALSE(*store_->Contains(actual));
  EXPECT_EQ(TempFiles(), 0u);
  EXPECT_EQ(CountFiles(media_dir() + "/sha256"), 0u);
}

TEST_F(ContentStoreTest, FewerBytesThanAnnouncedIsRejectedNamingBothSizes) {
  const std::string bytes = RandomBytes(1000, 3);
  const std::string digest = ContentDigest(bytes);
  auto stored = Write(digest, bytes, 100, 1500);
  ASSERT_EQ(stored.status().code(), absl::StatusCode::kInvalidArgument) << stored.status();
  EXPECT_THAT(stored.status().message(), HasSubstr("1500"));
  EXPECT_THAT(stored.status().message(), HasSubstr("1000"));
  EXPECT_EQ(common::ErrorField(stored.status()), "header.size_bytes");
  EXPECT_FALSE(*store_->Contains(digest));
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(ContentStoreTest, MoreBytesThanAnnouncedIsRejectedOnAppend) {
  const std::string bytes = RandomBytes(1000, 4);
  const std::string digest = ContentDigest(bytes);
  auto writer = store_->BeginWrite(digest, 999);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::Status appended = (*writer)->Append(bytes);
  ASSERT_EQ(appended.code(), absl::StatusCode::kInvalidArgument) << appended;
  EXPECT_THAT(appended.message(), HasSubstr("999"));
  EXPECT_THAT(appended.message(), HasSubstr("1000"));
  EXPECT_EQ(TempFiles(), 0u);
  // The writer is spent: nothing can be committed after the error.
  EXPECT_FALSE((*writer)->Commit().ok());
  EXPECT_FALSE(*store_->Contains(digest));
}

TEST_F(ContentStoreTest, AbandonedWriterLeavesNothingBehind) {
  const std::string bytes = RandomBytes(5000, 5);
  const std::string digest = ContentDigest(bytes);
  {
    auto writer = store_->BeginWrite(digest, static_cast<int64_t>(bytes.size()));
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append(bytes.substr(0, 2000)).ok());
    EXPECT_EQ(TempFiles(), 1u);
  }
  EXPECT_EQ(TempFiles(), 0u);
  EXPECT_FALSE(*store_->Contains(digest));
  EXPECT_EQ(CountFiles(media_dir() + "/sha256"), 0u);
}

TEST_F(ContentStoreTest, WritingHeldContentAgainIsAcknowledgedAsAlreadyPresent) {
  const std::string bytes = RandomBytes(70000, 6);
  const std::string digest = ContentDigest(bytes);
  ASSERT_TRUE(Write(digest, bytes).ok());
  const auto path = FileContentStore::ContentPath(media_dir(), digest);
  const auto first_write = fs::last_write_time(path);

  auto again = Write(digest, bytes, 1000);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_present);
  EXPECT_EQ(again->size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(fs::last_write_time(path), first_write);
  EXPECT_EQ(TempFiles(), 0u);

  // Wrong bytes under a held digest are still rejected, and the held copy stays.
  std::string corrupted = bytes;
  corrupted[100] ^= 1;
  EXPECT_EQ(Write(digest, corrupted).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(path), bytes);
}

TEST_F(ContentStoreTest, ConcurrentWritersOfTheSameDigestAllSucceed) {
  const std::string bytes = RandomBytes(600 * 1000, 7);
  const std::string digest = ContentDigest(bytes);
  constexpr int kWriters = 8;
  std::vector<absl::StatusOr<StoredContent>> results(kWriters, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] { results[i] = Write(digest, bytes, 64 * 1024); });
  for (auto& t : threads) t.join();

  int fresh = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    if (!result->already_present) ++fresh;
  }
  EXPECT_GE(fresh, 1);
  EXPECT_EQ(ReadFile(FileContentStore::ContentPath(media_dir(), digest)), bytes);
  EXPECT_EQ(CountFiles(media_dir() + "/sha256"), 1u);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(ContentStoreTest, FindMissingAnswersInRequestOrder) {
  const std::string a = RandomBytes(10, 8), b = RandomBytes(20, 9), c = RandomBytes(30, 10);
  const std::string da = ContentDigest(a), db = ContentDigest(b), dc = ContentDigest(c);
  ASSERT_TRUE(Write(db, b).ok());

  auto missing = store_->FindMissing({dc, db, da, dc});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_THAT(*missing, ElementsAre(dc, da, dc));

  ASSERT_TRUE(Write(da, a).ok());
  ASSERT_TRUE(Write(dc, c).ok());
  EXPECT_THAT(*store_->FindMissing({dc, db, da}), IsEmpty());
  EXPECT_THAT(*store_->FindMissing({}), IsEmpty());
}

TEST_F(ContentStoreTest, MalformedDigestsAreRejectedNamingTheField) {
  const std::string hex(64, 'a');
  const std::string good = "sha256:" + hex;
  const std::vector<std::string> bad = {
      "",
      hex,                               // no prefix
      "sha256:" + std::string(63, 'a'),  // too short
      "sha256:" + std::string(65, 'a'),  // too long
      "sha256:" + std::string(64, 'A'),  // upper case
      "sha256:" + std::string(63, 'a') + "g",
      "SHA256:" + hex,
      "sha1:" + std::string(40, 'a'),
      "sha256: " + std::string(63, 'a'),
  };
  for (const std::string& digest : bad) {
    SCOPED_TRACE(digest);
    auto missing = store_->FindMissing({good, good, digest});
    ASSERT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(common::ErrorField(missing.status()), "content_digests[2]");
    EXPECT_EQ(common::ErrorReason(missing.status()), "INVALID_CONTENT_DIGEST");
    EXPECT_THAT(missing.status().message(), HasSubstr("content_digests[2]"));

    auto writer = store_->BeginWrite(digest, 1);
    ASSERT_EQ(writer.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(common::ErrorField(writer.status()), "header.content_digest");

    EXPECT_EQ(store_->Contains(digest).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(ContentStoreTest, SizesOutsideZeroToFourGibAreRejected) {
  const std::string digest = "sha256:" + std::string(64, 'b');
  for (int64_t size : {int64_t{-1}, kMaxContentBytes + 1}) {
    auto writer = store_->BeginWrite(digest, size);
    ASSERT_EQ(writer.status().code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(common::ErrorField(writer.status()), "header.size_bytes");
  }
  EXPECT_TRUE(store_->BeginWrite(digest, kMaxContentBytes).ok());
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(ContentStoreTest, CreateRemovesStaleTemporaryFilesOnly) {
  const std::string stale = media_dir() + "/tmp/upload-stale";
  const std::string fresh = media_dir() + "/tmp/upload-fresh";
  std::ofstream(stale) << "old";
  std::ofstream(fresh) << "new";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(48));

  auto reopened = FileContentStore::Create(media_dir());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
}

TEST_F(ContentStoreTest, QuotaCountsStoredAndInProgressBytesAndSurvivesReopening) {
  auto limited = FileContentStore::Create(media_dir(), {.max_stored_bytes = 1000});
  ASSERT_TRUE(limited.ok()) << limited.status();
  store_ = *std::move(limited);
  const std::string a = RandomBytes(600, 1), b = RandomBytes(600, 2), c = RandomBytes(300, 3);
  ASSERT_TRUE(Write(ContentDigest(a), a).ok());
  EXPECT_EQ(store_->stored_bytes(), 600);

  // 600 + 600 > 1000: refused before any byte is written, naming the quota.
  auto refused = store_->BeginWrite(ContentDigest(b), 600);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("--max_media_bytes_per_tenant"));
  EXPECT_EQ(common::ErrorReason(refused.status()), "TENANT_MEDIA_QUOTA");
  EXPECT_EQ(TempFiles(), 0u);

  // Content the store holds already is acknowledged whatever the quota.
  auto again = Write(ContentDigest(a), a);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_present);

  // A write in progress holds its bytes: a second one that would not fit
  // beside it is refused; abandoning the first frees its reservation.
  {
    auto writer = store_->BeginWrite(ContentDigest(c), 300);
    ASSERT_TRUE(writer.ok()) << writer.status();
    EXPECT_EQ(store_->BeginWrite(ContentDigest(RandomBytes(200, 4)), 200).status().code(),
              absl::StatusCode::kResourceExhausted);
  }
  ASSERT_TRUE(Write(ContentDigest(c), c).ok());
  EXPECT_EQ(store_->stored_bytes(), 900);

  // A store opened again counts what is on disk.
  auto reopened = FileContentStore::Create(media_dir(), {.max_stored_bytes = 1000});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->stored_bytes(), 900);
  EXPECT_EQ((*reopened)->BeginWrite(ContentDigest(RandomBytes(101, 5)), 101).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE((*reopened)->BeginWrite(ContentDigest(RandomBytes(100, 6)), 100).ok());
}

}  // namespace
}  // namespace labelport::store
