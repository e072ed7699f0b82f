// The RunStore conformance suite: the behaviour every RunStore must have.
//
// Written once against the port. An implementation plugs in with one line in
// its own test file:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Postgres, RunStoreConformanceTest,
//       ::testing::Values(RunStoreFactory{"Postgres", &MakeEmptyStore}),
//       RunStoreFactoryName);
//
// The factory must return a new, empty store on every call. Include this
// header in exactly one .cc file per test binary.
#ifndef LABELPORT_TESTS_UNIT_STORE_RUN_STORE_CONFORMANCE_H_
#define LABELPORT_TESTS_UNIT_STORE_RUN_STORE_CONFORMANCE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/barrier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/common/errors.h"
#include "service/store/run_store.h"

namespace labelport::store::testing {

struct RunStoreFactory {
  // A test-name-safe label, e.g. "SqliteInMemory".
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<RunStore>>()> make;
};

inline void PrintTo(const RunStoreFactory& factory, std::ostream* os) {
  *os << factory.name;
}

inline std::string RunStoreFactoryName(
    const ::testing::TestParamInfo<RunStoreFactory>& info) {
  return info.param.name;
}

// Matches an absl::StatusOr that is OK and whose value matches `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

class RunStoreConformanceTest
    : public ::testing::TestWithParam<RunStoreFactory> {
 protected:
  static constexpr char kTenant[] = "tenant-a";
  static constexpr char kDataset[] = "dataset-1";

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RunStore>> store = GetParam().make();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  static RunKey Key(const std::string& anno_key,
                    const std::string& dataset = kDataset,
                    const std::string& tenant = kTenant) {
    return RunKey{tenant, dataset, anno_key};
  }

  // A query over kDataset of kTenant, without filters.
  static ListRunsQuery Query(int page_size = 50,
                             const std::string& dataset = kDataset) {
    ListRunsQuery query;
    query.tenant = kTenant;
    query.dataset = dataset;
    query.page_size = page_size;
    return query;
  }

  static labelport::v1::Sample MakeSample(const std::string& id) {
    labelport::v1::Sample sample;
    sample.set_id(id);
    sample.mutable_media()->set_path(absl::StrCat("/data/", id, ".jpg"));
    sample.set_media_type(labelport::v1::MEDIA_TYPE_IMAGE);
    sample.set_width(640);
    sample.set_height(480);
    return sample;
  }

  // A run with `sample_count` samples whose ids are not in sorted order, so
  // that order bugs show.
  static NewRun MakeRun(const RunKey& key, int sample_count = 3,
                        const std::string& request_id = "") {
    NewRun run;
    run.key = key;
    run.request_id = request_id;
    run.record.set_backend("darwin");
    run.record.set_state(labelport::v1::RUN_STATE_PENDING);
    run.record.mutable_darwin()->set_dataset_slug("slug-1");
    run.record.mutable_progress()->set_samples_total(sample_count);
    run.record.set_request_id(request_id);
    run.record.set_media_field("filepath");
    (*run.record.mutable_client_metadata())["owner"] = "alice";
    for (int i = 0; i < sample_count; ++i) {
      run.samples.push_back(
          MakeSample(absl::StrFormat("s%05d", (i * 7919) % 100003)));
    }
    return run;
  }

  static std::vector<std::string> SampleIds(const NewRun& run) {
    std::vector<std::string> ids;
    for (const auto& sample : run.samples) ids.push_back(sample.id());
    return ids;
  }

  absl::StatusOr<std::vector<std::string>> AllSampleIds(const RunKey& key,
                                                        int page_size = 1000) {
    std::vector<std::string> ids;
    int64_t position = 0;
    while (true) {
      absl::StatusOr<SampleIdPage> page =
          store_->ListRunSamples(key, position, page_size);
      if (!page.ok()) return page.status();
      ids.insert(ids.end(), page->sample_ids.begin(), page->sample_ids.end());
      if (!page->next_start_position.has_value()) return ids;
      position = *page->next_start_position;
    }
  }

  static void ExpectRunNotFound(const absl::Status& status,
                                const std::string& anno_key) {
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_EQ(
        status.message(),
        absl::StrCat("Dataset has no annotation run key '", anno_key, "'"));
    EXPECT_EQ(common::ErrorField(status), "name");
    EXPECT_EQ(common::ErrorReason(status), "RUN_NOT_FOUND");
  }

  std::unique_ptr<RunStore> store_;
};

TEST_P(RunStoreConformanceTest, CreateThenGetRoundTripsTheRecord) {
  NewRun run = MakeRun(Key("key1"), 5, "req-1");
  // Store-owned fields given by the caller are replaced.
  run.record.set_name("bogus");
  run.record.set_anno_key("bogus");
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  EXPECT_FALSE(created->run_id.empty());

  const labelport::v1::AnnotationRun& out = created->run;
  EXPECT_EQ(out.name(), "datasets/dataset-1/runs/key1");
  EXPECT_EQ(out.dataset(), "dataset-1");
  EXPECT_EQ(out.anno_key(), "key1");
  EXPECT_EQ(out.backend(), "darwin");
  EXPECT_EQ(out.state(), labelport::v1::RUN_STATE_PENDING);
  EXPECT_EQ(out.darwin().dataset_slug(), "slug-1");
  EXPECT_EQ(out.progress().samples_total(), 5);
  EXPECT_EQ(out.request_id(), "req-1");
  EXPECT_EQ(out.media_field(), "filepath");
  EXPECT_EQ(out.client_metadata().at("owner"), "alice");
  EXPECT_GT(out.create_time().seconds(), 1'600'000'000);
  EXPECT_EQ(out.update_time().seconds(), out.create_time().seconds());
  EXPECT_EQ(out.update_time().nanos(), out.create_time().nanos());

  absl::StatusOr<labelport::v1::AnnotationRun> got =
      store_->GetRun(Key("key1"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), out.SerializeAsString());
  EXPECT_THAT(AllSampleIds(Key("key1")), IsOkAndHolds(SampleIds(run)));
}

TEST_P(RunStoreConformanceTest, CreatesARunWithoutSamples) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("empty"), 0)).ok());
  absl::StatusOr<SampleIdPage> page =
      store_->ListRunSamples(Key("empty"), 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->sample_ids.empty());
  EXPECT_FALSE(page->next_start_position.has_value());
}

TEST_P(RunStoreConformanceTest, CreatesALargeRunInOrder) {
  NewRun run = MakeRun(Key("large"), 10'000);
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_THAT(AllSampleIds(Key("large"), 999), IsOkAndHolds(SampleIds(run)));
}

TEST_P(RunStoreConformanceTest, RequestIdReplayReturnsTheSameRun) {
  absl::StatusOr<CreateRunResult> first =
      store_->CreateRun(MakeRun(Key("key1"), 3, "req-1"));
  ASSERT_TRUE(first.ok()) << first.status();

  // A retry, even one that lost its key, stores nothing new.
  NewRun retry = MakeRun(Key("other-key"), 4, "req-1");
  absl::StatusOr<CreateRunResult> second = store_->CreateRun(retry);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->run_id, first->run_id);
  EXPECT_EQ(second->run.SerializeAsString(), first->run.SerializeAsString());
  ExpectRunNotFound(store_->GetRun(Key("other-key")).status(), "other-key");
  EXPECT_THAT(AllSampleIds(Key("key1")), IsOkAndHolds(::testing::SizeIs(3)));
}

TEST_P(RunStoreConformanceTest, RequestIdsAreScopedByTenant) {
  ASSERT_TRUE(
      store_->CreateRun(MakeRun(Key("k", kDataset, "t1"), 1, "req")).ok());
  absl::StatusOr<CreateRunResult> other =
      store_->CreateRun(MakeRun(Key("k", kDataset, "t2"), 1, "req"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
}

TEST_P(RunStoreConformanceTest, KeyClashIsAlreadyExists) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1"), 2, "req-1")).ok());
  absl::StatusOr<CreateRunResult> clash =
      store_->CreateRun(MakeRun(Key("key1"), 2, "req-2"));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().message(),
            "Annotation run with key 'key1' already exists");
  EXPECT_EQ(common::ErrorField(clash.status()), "header.anno_key");
  EXPECT_EQ(common::ErrorReason(clash.status()), "RUN_ALREADY_EXISTS");

  // The failed create left nothing behind, not even its request id.
  absl::StatusOr<CreateRunResult> later =
      store_->CreateRun(MakeRun(Key("key2"), 2, "req-2"));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->created);
}

TEST_P(RunStoreConformanceTest, SameKeyInOtherDatasetOrTenantIsIndependent) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1"))).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1", "dataset-2"))).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1", kDataset, "t2"))).ok());
  ExpectRunNotFound(store_->GetRun(Key("key1", kDataset, "t3")).status(),
                    "key1");
}

TEST_P(RunStoreConformanceTest, ConcurrentCreatesWithOneKeyHaveOneWinner) {
  constexpr int kThreads = 8;
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::atomic<int> successes{0};
  std::atomic<int> clashes{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      NewRun run = MakeRun(Key("contended"), 50, absl::StrCat("req-", i));
      if (start->Block()) delete start;
      absl::StatusOr<CreateRunResult> result = store_->CreateRun(run);
      if (result.ok() && result->created) {
        ++successes;
      } else if (result.status().code() == absl::StatusCode::kAlreadyExists) {
        ++clashes;
      } else {
        ADD_FAILURE() << "unexpected: " << result.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(successes.load(), 1);
  EXPECT_EQ(clashes.load(), kThreads - 1);
  EXPECT_THAT(AllSampleIds(Key("contended")),
              IsOkAndHolds(::testing::SizeIs(50)));
}

TEST_P(RunStoreConformanceTest, ConcurrentCreatesWithDistinctKeysAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kRunsPerThread = 10;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([this, i] {
      for (int j = 0; j < kRunsPerThread; ++j) {
        absl::StatusOr<CreateRunResult> result =
            store_->CreateRun(MakeRun(Key(absl::StrCat("k-", i, "-", j)), 5));
        EXPECT_TRUE(result.ok()) << result.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ListRunsQuery query = Query(1000);
  absl::StatusOr<ListRunsPage> page = store_->ListRuns(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->runs.size(), size_t{kThreads * kRunsPerThread});
}

TEST_P(RunStoreConformanceTest, RenameMovesTheRun) {
  NewRun run = MakeRun(Key("old"), 6, "req-1");
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();

  absl::StatusOr<labelport::v1::AnnotationRun> renamed =
      store_->RenameRun(Key("old"), "new");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->name(), "datasets/dataset-1/runs/new");
  EXPECT_EQ(renamed->anno_key(), "new");
  EXPECT_EQ(renamed->dataset(), "dataset-1");
  EXPECT_EQ(renamed->backend(), "darwin");
  EXPECT_EQ(renamed->create_time().SerializeAsString(),
            created->run.create_time().SerializeAsString());
  EXPECT_GE(std::make_pair(renamed->update_time().seconds(),
                           renamed->update_time().nanos()),
            std::make_pair(created->run.update_time().seconds(),
                           created->run.update_time().nanos()));

  ExpectRunNotFound(store_->GetRun(Key("old")).status(), "old");
  ExpectRunNotFound(store_->ListRunSamples(Key("old"), 0, 10).status(), "old");
  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("new"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), renamed->SerializeAsString());
  EXPECT_THAT(AllSampleIds(Key("new")), IsOkAndHolds(SampleIds(run)));

  // The request id follows the run.
  absl::StatusOr<CreateRunResult> replay =
      store_->CreateRun(MakeRun(Key("old"), 6, "req-1"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run_id, created->run_id);
  EXPECT_EQ(replay->run.anno_key(), "new");

  // The old key is free again.
  EXPECT_TRUE(store_->CreateRun(MakeRun(Key("old"))).ok());
}

TEST_P(RunStoreConformanceTest, RenameOntoATakenKeyIsAlreadyExists) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("a"))).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("b"))).ok());
  for (const char* target : {"b", "a"}) {
    absl::StatusOr<labelport::v1::AnnotationRun> clash =
        store_->RenameRun(Key("a"), target);
    ASSERT_FALSE(clash.ok()) << target;
    EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(clash.status().message(),
              absl::StrCat("A annotation run with key '", target,
                           "' already exists"));
    EXPECT_EQ(common::ErrorField(clash.status()), "new_anno_key");
    EXPECT_EQ(common::ErrorReason(clash.status()), "RUN_ALREADY_EXISTS");
  }
  EXPECT_TRUE(store_->GetRun(Key("a")).ok());
  EXPECT_TRUE(store_->GetRun(Key("b")).ok());
}

TEST_P(RunStoreConformanceTest, DeleteRemovesRunSamplesAndRequestId) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("gone"), 4, "req-1")).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("kept"), 2, "req-2")).ok());
  ASSERT_TRUE(store_->DeleteRun(Key("gone")).ok());

  ExpectRunNotFound(store_->GetRun(Key("gone")).status(), "gone");
  ExpectRunNotFound(store_->ListRunSamples(Key("gone"), 0, 10).status(),
                    "gone");
  ExpectRunNotFound(store_->DeleteRun(Key("gone")), "gone");

  // The request id is free: the same request now creates a new run.
  absl::StatusOr<CreateRunResult> again =
      store_->CreateRun(MakeRun(Key("gone"), 4, "req-1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->created);
  EXPECT_THAT(AllSampleIds(Key("gone")), IsOkAndHolds(::testing::SizeIs(4)));
  EXPECT_THAT(AllSampleIds(Key("kept")), IsOkAndHolds(::testing::SizeIs(2)));
}

TEST_P(RunStoreConformanceTest, ListRunsPagesThroughEveryRunInKeyOrder) {
  constexpr int kRuns = 1000;
  std::vector<std::string> expected;
  for (int i = 0; i < kRuns; ++i) {
    // Insert in an order unrelated to the key order.
    std::string key = absl::StrFormat("run-%04d", (i * 389) % kRuns);
    expected.push_back(key);
    ASSERT_TRUE(store_->CreateRun(MakeRun(Key(key), 0)).ok()) << key;
  }
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("x", "other-dataset"), 0)).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("x", kDataset, "t2"), 0)).ok());
  std::sort(expected.begin(), expected.end());

  std::vector<std::string> seen;
  ListRunsQuery query = Query(37);
  int pages = 0;
  while (true) {
    absl::StatusOr<ListRunsPage> page = store_->ListRuns(query);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    ASSERT_LE(page->runs.size(), 37u);
    for (const auto& run : page->runs) {
      seen.push_back(run.anno_key());
      EXPECT_EQ(run.name(),
                absl::StrCat("datasets/dataset-1/runs/", run.anno_key()));
    }
    if (!page->next_after_anno_key.has_value()) break;
    EXPECT_EQ(page->runs.size(), 37u);
    EXPECT_EQ(*page->next_after_anno_key, page->runs.back().anno_key());
    query.after_anno_key = *page->next_after_anno_key;
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, (kRuns + 36) / 37);
}

TEST_P(RunStoreConformanceTest, ListRunsSetsNextOnlyWhenMoreExist) {
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(store_->CreateRun(MakeRun(Key(key), 0)).ok());
  }
  ListRunsQuery query = Query(3);
  absl::StatusOr<ListRunsPage> full = store_->ListRuns(query);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->runs.size(), 3u);
  EXPECT_FALSE(full->next_after_anno_key.has_value());

  query.page_size = 2;
  absl::StatusOr<ListRunsPage> first = store_->ListRuns(query);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->next_after_anno_key, "b");

  query.after_anno_key = "c";
  absl::StatusOr<ListRunsPage> past = store_->ListRuns(query);
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_TRUE(past->runs.empty());
  EXPECT_FALSE(past->next_after_anno_key.has_value());

  ListRunsQuery none = Query(50, "no-such-dataset");
  absl::StatusOr<ListRunsPage> empty = store_->ListRuns(none);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->runs.empty());
}

TEST_P(RunStoreConformanceTest, ListRunsFilters) {
  auto create = [this](const std::string& key, const std::string& backend,
                       labelport::v1::RunState state, const std::string& slug) {
    NewRun run = MakeRun(Key(key), 0);
    run.record.set_backend(backend);
    run.record.set_state(state);
    run.record.mutable_darwin()->set_dataset_slug(slug);
    ASSERT_TRUE(store_->CreateRun(run).ok()) << key;
  };
  create("r1", "darwin", labelport::v1::RUN_STATE_PENDING, "slug-a");
  create("r2", "darwin", labelport::v1::RUN_STATE_ANNOTATING, "slug-a");
  create("r3", "darwin", labelport::v1::RUN_STATE_ANNOTATING, "slug-b");
  create("r4", "other", labelport::v1::RUN_STATE_ANNOTATING, "slug-a");

  // The keys listed with filters (backend, state, dataset_slug).
  auto keys = [this](const std::string& backend, labelport::v1::RunState state,
                     const std::string& slug) {
    ListRunsQuery query = Query();
    query.backend = backend;
    query.state = state;
    query.dataset_slug = slug;
    std::vector<std::string> out;
    absl::StatusOr<ListRunsPage> page = store_->ListRuns(query);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      for (const auto& run : page->runs) out.push_back(run.anno_key());
    }
    return out;
  };
  using ::testing::ElementsAre;
  constexpr auto kAny = labelport::v1::RUN_STATE_UNSPECIFIED;
  constexpr auto kAnnotating = labelport::v1::RUN_STATE_ANNOTATING;
  EXPECT_THAT(keys("", kAny, ""), ElementsAre("r1", "r2", "r3", "r4"));
  EXPECT_THAT(keys("darwin", kAny, ""), ElementsAre("r1", "r2", "r3"));
  EXPECT_THAT(keys("", kAnnotating, ""), ElementsAre("r2", "r3", "r4"));
  EXPECT_THAT(keys("", kAny, "slug-a"), ElementsAre("r1", "r2", "r4"));
  EXPECT_THAT(keys("darwin", kAnnotating, "slug-a"), ElementsAre("r2"));
  EXPECT_THAT(keys("none", kAny, ""), ElementsAre());
  EXPECT_THAT(keys("", labelport::v1::RUN_STATE_FAILED, ""), ElementsAre());

  // Filters and paging combine: the next key comes from the filtered rows.
  ListRunsQuery paged = Query(1);
  paged.dataset_slug = "slug-a";
  absl::StatusOr<ListRunsPage> page = store_->ListRuns(paged);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->next_after_anno_key, "r1");
  paged.after_anno_key = "r2";
  page = store_->ListRuns(paged);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->runs.size(), 1u);
  EXPECT_EQ(page->runs[0].anno_key(), "r4");
  EXPECT_FALSE(page->next_after_anno_key.has_value());
}

TEST_P(RunStoreConformanceTest, ListRunSamplesPages) {
  NewRun run = MakeRun(Key("paged"), 100);
  ASSERT_TRUE(store_->CreateRun(run).ok());
  const std::vector<std::string> expected = SampleIds(run);

  absl::StatusOr<SampleIdPage> page =
      store_->ListRunSamples(Key("paged"), 0, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->sample_ids,
            std::vector<std::string>(expected.begin(), expected.begin() + 7));
  EXPECT_EQ(page->next_start_position, 7);

  page = store_->ListRunSamples(Key("paged"), 95, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->sample_ids,
            std::vector<std::string>(expected.begin() + 95, expected.end()));
  EXPECT_FALSE(page->next_start_position.has_value());

  page = store_->ListRunSamples(Key("paged"), 93, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->sample_ids.size(), 7u);
  EXPECT_FALSE(page->next_start_position.has_value());

  page = store_->ListRunSamples(Key("paged"), 100, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->sample_ids.empty());
  EXPECT_FALSE(page->next_start_position.has_value());

  EXPECT_THAT(AllSampleIds(Key("paged"), 7), IsOkAndHolds(expected));
}

TEST_P(RunStoreConformanceTest, UnknownRunsAreNotFound) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("exists"))).ok());
  ExpectRunNotFound(store_->GetRun(Key("missing")).status(), "missing");
  ExpectRunNotFound(store_->RenameRun(Key("missing"), "x").status(), "missing");
  ExpectRunNotFound(store_->DeleteRun(Key("missing")), "missing");
  ExpectRunNotFound(store_->ListRunSamples(Key("missing"), 0, 5).status(),
                    "missing");
  // The key exists, but in another dataset or tenant.
  ExpectRunNotFound(store_->GetRun(Key("exists", "dataset-2")).status(),
                    "exists");
  ExpectRunNotFound(store_->GetRun(Key("exists", kDataset, "t2")).status(),
                    "exists");
}

TEST_P(RunStoreConformanceTest, RejectsBadPageArguments) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("k"))).ok());
  ListRunsQuery query = Query(0);
  EXPECT_EQ(store_->ListRuns(query).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListRunSamples(Key("k"), 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListRunSamples(Key("k"), -1, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace labelport::store::testing

#endif  // LABELPORT_TESTS_UNIT_STORE_RUN_STORE_CONFORMANCE_H_
