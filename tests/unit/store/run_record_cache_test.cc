// RunRecordCache: a record is found only under the revision it was put
// with, a newer revision replaces an older one (never the reverse), and the
// capacity bounds the runs kept.
#include "service/store/run_record_cache.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace labelport::store {
namespace {

RunRecordCache::Record RecordAt(int64_t revision) {
  auto run = std::make_shared<labelport::v1::AnnotationRun>();
  run->set_revision(revision);
  return run;
}

TEST(RunRecordCacheTest, FindsARecordOnlyAtItsRevision) {
  RunRecordCache cache;
  EXPECT_EQ(cache.Find("run", 1), nullptr);
  cache.Put("run", 1, RecordAt(1));
  ASSERT_NE(cache.Find("run", 1), nullptr);
  EXPECT_EQ(cache.Find("run", 1)->revision(), 1);
  EXPECT_EQ(cache.Find("run", 2), nullptr);
  EXPECT_EQ(cache.Find("other", 1), nullptr);
}

TEST(RunRecordCacheTest, ANewerRevisionReplacesAnOlderOneNeverTheReverse) {
  RunRecordCache cache;
  cache.Put("run", 2, RecordAt(2));
  cache.Put("run", 1, RecordAt(1));  // a slow reader of the older row
  EXPECT_EQ(cache.Find("run", 1), nullptr);
  ASSERT_NE(cache.Find("run", 2), nullptr);
  cache.Put("run", 3, RecordAt(3));
  EXPECT_EQ(cache.Find("run", 2), nullptr);
  EXPECT_EQ(cache.Find("run", 3)->revision(), 3);
}

TEST(RunRecordCacheTest, KeepsAtMostItsCapacity) {
  RunRecordCache cache(/*capacity=*/32);
  for (int i = 0; i < 1000; ++i) cache.Put(absl::StrCat("run-", i), 1, RecordAt(1));
  int kept = 0;
  for (int i = 0; i < 1000; ++i) kept += cache.Find(absl::StrCat("run-", i), 1) != nullptr;
  EXPECT_GT(kept, 0);
  EXPECT_LE(kept, 32);
}

TEST(RunRecordCacheTest, ConcurrentReadersAndWritersAgree) {
  RunRecordCache cache(/*capacity=*/64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string run = absl::StrCat("run-", i % 100);
        cache.Put(run, i, RecordAt(i));
        if (RunRecordCache::Record found = cache.Find(run, i - t)) {
          EXPECT_EQ(found->revision(), i - t);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace
}  // namespace labelport::store
