// The RunStore conformance suite: the behaviour every RunStore must have.
//
// Written once against the port. An implementation plugs in with one line in
// its own test file:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Postgres, RunStoreConformanceTest,
//       ::testing::Values(RunStoreFactory{"Postgres", &MakeEmptyStore, &Reopen}),
//       RunStoreFactoryName);
//
// The factory must return a new, empty store on every call; a durable store
// also gives `reopen`, so that durability is tested across restarts. Include this
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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "gtest/gtest.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/sample.pb.h"
#include "service/common/errors.h"
#include "service/store/run_store.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::store::testing {

struct RunStoreFactory {
  // A test-name-safe label, e.g. "SqliteInMemory".
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<RunStore>>()> make;
  // Optional, for durable stores: closes `store` (made by `make`) and opens
  // a new store on its data. Tests of durability skip the restart without it.
  std::function<absl::StatusOr<std::unique_ptr<RunStore>>(std::unique_ptr<RunStore> store)> reopen;
  // Optional, for stores on shared data (a file, a database): opens another
  // store on the data of `store` (made by `make`), as another process would.
  // Without it, tests of contention contend within one store.
  std::function<absl::StatusOr<std::unique_ptr<RunStore>>(const RunStore& store)> share = nullptr;
};

inline void PrintTo(const RunStoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string RunStoreFactoryName(const ::testing::TestParamInfo<RunStoreFactory>& info) {
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

// Runs body(0) to body(n - 1) on n threads released together (each waits
// until all have started), then joins them: the calls contend.
template <typename Body>
void RunTogether(int n, const Body& body) {
  auto* start = new absl::Barrier(n);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([start, &body, i] {
      if (start->Block()) delete start;
      body(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

class RunStoreConformanceTest : public ::testing::TestWithParam<RunStoreFactory> {
 protected:
  static constexpr char kTenant[] = "tenant-a";
  static constexpr char kDataset[] = "dataset-1";

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RunStore>> store = GetParam().make();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Waits until the clock is past `run`'s create time (by a microsecond, the
  // coarsest stored resolution), so that a run created next has a later
  // one: creation order is then a defined order. (The stores take create
  // times from this machine's clock: this process's or the database's.)
  static ::testing::AssertionResult WaitPastCreateTime(const labelport::v1::AnnotationRun& run) {
    if (!run.has_create_time())
      return ::testing::AssertionFailure() << "the run has no create time";
    const absl::Time created = absl::FromUnixSeconds(run.create_time().seconds()) +
                               absl::Nanoseconds(run.create_time().nanos());
    return ::labelport::testing::WaitUntil(
        [created] { return absl::Now() > created + absl::Microseconds(1); }, absl::Seconds(5),
        "the clock passing the run's create time");
  }

  // Waits until `owner` can take the lease of `uid` (another owner's lease
  // expired); fails after 10 s.
  ::testing::AssertionResult WaitToAcquire(const std::string& uid, const std::string& owner) {
    return ::labelport::testing::WaitUntil(
        [&] {
          absl::StatusOr<bool> acquired = store_->AcquireLease(uid, owner, absl::Minutes(1));
          EXPECT_TRUE(acquired.ok()) << acquired.status();
          return !acquired.ok() || *acquired;
        },
        absl::Seconds(10), absl::StrCat(owner, " taking the expired lease"));
  }

  // Every progress record of run `uid` (its runs have fewer than 1000
  // samples).
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> AllProgress(
      const std::string& uid) {
    return store_->LoadSampleProgressRange(uid, 0, 1000);
  }

  static RunKey Key(const std::string& anno_key, const std::string& dataset = kDataset,
                    const std::string& tenant = kTenant) {
    return RunKey{tenant, dataset, anno_key};
  }

  // A query over kDataset of kTenant, without filters.
  static ListRunsQuery Query(int page_size = 50, const std::string& dataset = kDataset) {
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
      run.samples.push_back(MakeSample(absl::StrFormat("s%05d", (i * 7919) % 100003)));
    }
    return run;
  }

  static std::vector<std::string> SampleIds(const NewRun& run) {
    std::vector<std::string> ids;
    for (const auto& sample : run.samples) ids.push_back(sample.id());
    return ids;
  }

  absl::StatusOr<std::vector<std::string>> AllSampleIds(const RunKey& key, int page_size = 1000) {
    std::vector<std::string> ids;
    int64_t position = 0;
    while (true) {
      absl::StatusOr<SampleIdPage> page = store_->ListRunSamples(key, position, page_size);
      if (!page.ok()) return page.status();
      ids.insert(ids.end(), page->sample_ids.begin(), page->sample_ids.end());
      if (!page->next_start_position.has_value()) return ids;
      position = *page->next_start_position;
    }
  }

  static void ExpectRunNotFound(const absl::Status& status, const std::string& anno_key) {
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_EQ(status.message(), absl::StrCat("Dataset has no annotation run key '", anno_key, "'"));
    EXPECT_EQ(common::ErrorField(status), "name");
    EXPECT_EQ(common::ErrorReason(status), "RUN_NOT_FOUND");
  }

  // Closes the store and opens it again on the same data, as a restarted
  // process would, when the factory can (a no-op otherwise).
  void Restart() {
    if (!GetParam().reopen) return;
    absl::StatusOr<std::unique_ptr<RunStore>> store = GetParam().reopen(std::move(store_));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // The keys of the first page of kDataset's runs listed with filters
  // (backend, state, dataset_slug; empty / UNSPECIFIED: any).
  std::vector<std::string> ListedKeys(const std::string& backend, labelport::v1::RunState state,
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
  }

  // The ids of the runs ListClaimableRuns(max_count, "") offers, in order.
  std::vector<std::string> ClaimableIds(int max_count) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<ClaimableRun>> runs = store_->ListClaimableRuns(max_count, "");
    EXPECT_TRUE(runs.ok()) << runs.status();
    if (runs.ok()) {
      for (const ClaimableRun& run : *runs) out.push_back(run.run_id);
    }
    return out;
  }

  // `count` stores on the data of store_ (store_ first), as in as many
  // processes, when the factory can share it; store_ `count` times
  // otherwise. They live as long as the test.
  std::vector<RunStore*> Contenders(int count) {
    std::vector<RunStore*> stores = {store_.get()};
    while (static_cast<int>(stores.size()) < count) {
      if (!GetParam().share) {
        stores.push_back(store_.get());
        continue;
      }
      absl::StatusOr<std::unique_ptr<RunStore>> other = GetParam().share(*store_);
      EXPECT_TRUE(other.ok()) << other.status();
      if (!other.ok()) return {};
      others_.push_back(*std::move(other));
      stores.push_back(others_.back().get());
    }
    return stores;
  }

  using SampleProgress = labelport::internal::v1::SampleProgress;
  using AnnotationLink = labelport::internal::v1::AnnotationLink;

  static SampleProgress Progress(int64_t position, labelport::internal::v1::SampleStep step,
                                 const std::string& item_id) {
    SampleProgress progress;
    progress.set_position(position);
    progress.set_sample_id(absl::StrCat("sample-", position));
    progress.set_step(step);
    progress.set_item_id(item_id);
    return progress;
  }

  static AnnotationLink Link(const std::string& annotation_id, const std::string& label_id,
                             int part) {
    AnnotationLink link;
    link.set_annotation_id(annotation_id);
    link.set_label_id(label_id);
    link.set_part(part);
    link.set_part_count(2);
    link.set_sample_id("s1");
    link.set_field("ground_truth");
    link.set_item_id("item-1");
    return link;
  }

  // The messages serialised, to compare them whole.
  template <typename Message>
  static absl::StatusOr<std::vector<std::string>> Serialized(
      const absl::StatusOr<std::vector<Message>>& messages) {
    if (!messages.ok()) return messages.status();
    std::vector<std::string> out;
    for (const Message& message : *messages) {
      out.push_back(message.SerializeAsString());
    }
    return out;
  }

  std::unique_ptr<RunStore> store_;
  // Stores opened by Contenders.
  std::vector<std::unique_ptr<RunStore>> others_;
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

  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("key1"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), out.SerializeAsString());
  EXPECT_THAT(AllSampleIds(Key("key1")), IsOkAndHolds(SampleIds(run)));
}

TEST_P(RunStoreConformanceTest, CreatesARunWithoutSamples) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("empty"), 0)).ok());
  absl::StatusOr<SampleIdPage> page = store_->ListRunSamples(Key("empty"), 0, 10);
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
  absl::StatusOr<CreateRunResult> first = store_->CreateRun(MakeRun(Key("key1"), 3, "req-1"));
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
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("k", kDataset, "t1"), 1, "req")).ok());
  absl::StatusOr<CreateRunResult> other =
      store_->CreateRun(MakeRun(Key("k", kDataset, "t2"), 1, "req"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->created);
}

TEST_P(RunStoreConformanceTest, KeyClashIsAlreadyExists) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1"), 2, "req-1")).ok());
  absl::StatusOr<CreateRunResult> clash = store_->CreateRun(MakeRun(Key("key1"), 2, "req-2"));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().message(), "Annotation run with key 'key1' already exists");
  EXPECT_EQ(common::ErrorField(clash.status()), "header.anno_key");
  EXPECT_EQ(common::ErrorReason(clash.status()), "RUN_ALREADY_EXISTS");

  // The failed create left nothing behind, not even its request id.
  absl::StatusOr<CreateRunResult> later = store_->CreateRun(MakeRun(Key("key2"), 2, "req-2"));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->created);
}

TEST_P(RunStoreConformanceTest, SameKeyInOtherDatasetOrTenantIsIndependent) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1"))).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1", "dataset-2"))).ok());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("key1", kDataset, "t2"))).ok());
  ExpectRunNotFound(store_->GetRun(Key("key1", kDataset, "t3")).status(), "key1");
}

// Across processes when the store can be shared: they contend in the
// database (its locks, its constraints), not in one process.
TEST_P(RunStoreConformanceTest, ConcurrentCreatesWithOneKeyHaveOneWinner) {
  constexpr int kThreads = 8;
  const std::vector<RunStore*> stores = Contenders(kThreads);
  ASSERT_EQ(stores.size(), size_t{kThreads});
  std::vector<NewRun> runs;
  runs.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    runs.push_back(MakeRun(Key("contended"), 50, absl::StrCat("req-", i)));
  }
  std::atomic<int> successes{0};
  std::atomic<int> clashes{0};
  RunTogether(kThreads, [&](int i) {
    absl::StatusOr<CreateRunResult> result = stores[i]->CreateRun(runs[i]);
    if (result.ok() && result->created) {
      ++successes;
    } else if (result.status().code() == absl::StatusCode::kAlreadyExists) {
      ++clashes;
    } else {
      ADD_FAILURE() << "unexpected: " << result.status();
    }
  });
  EXPECT_EQ(successes.load(), 1);
  EXPECT_EQ(clashes.load(), kThreads - 1);
  EXPECT_THAT(AllSampleIds(Key("contended")), IsOkAndHolds(::testing::SizeIs(50)));
}

// A retried create (same request id) racing the original, from other
// processes when the store can be shared: all see one run.
TEST_P(RunStoreConformanceTest, ConcurrentRetriesOfOneCreateReturnOneRun) {
  constexpr int kThreads = 6;
  const std::vector<RunStore*> stores = Contenders(kThreads);
  ASSERT_EQ(stores.size(), size_t{kThreads});
  std::vector<std::string> run_ids(kThreads);
  std::atomic<int> created{0};
  RunTogether(kThreads, [&](int i) {
    absl::StatusOr<CreateRunResult> result =
        stores[i]->CreateRun(MakeRun(Key("retried"), 3, "req-same"));
    ASSERT_TRUE(result.ok()) << result.status();
    if (result->created) ++created;
    run_ids[i] = result->run_id;
  });
  EXPECT_EQ(created.load(), 1);
  EXPECT_THAT(run_ids, ::testing::Each(run_ids[0]));
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

  absl::StatusOr<labelport::v1::AnnotationRun> renamed = store_->RenameRun(Key("old"), "new");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->name(), "datasets/dataset-1/runs/new");
  EXPECT_EQ(renamed->anno_key(), "new");
  EXPECT_EQ(renamed->dataset(), "dataset-1");
  EXPECT_EQ(renamed->backend(), "darwin");
  EXPECT_EQ(renamed->create_time().SerializeAsString(),
            created->run.create_time().SerializeAsString());
  EXPECT_GE(
      std::make_pair(renamed->update_time().seconds(), renamed->update_time().nanos()),
      std::make_pair(created->run.update_time().seconds(), created->run.update_time().nanos()));

  ExpectRunNotFound(store_->GetRun(Key("old")).status(), "old");
  ExpectRunNotFound(store_->ListRunSamples(Key("old"), 0, 10).status(), "old");
  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("new"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), renamed->SerializeAsString());
  EXPECT_THAT(AllSampleIds(Key("new")), IsOkAndHolds(SampleIds(run)));

  // The request id follows the run.
  absl::StatusOr<CreateRunResult> replay = store_->CreateRun(MakeRun(Key("old"), 6, "req-1"));
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
    absl::StatusOr<labelport::v1::AnnotationRun> clash = store_->RenameRun(Key("a"), target);
    ASSERT_FALSE(clash.ok()) << target;
    EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(clash.status().message(),
              absl::StrCat("A annotation run with key '", target, "' already exists"));
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
  ExpectRunNotFound(store_->ListRunSamples(Key("gone"), 0, 10).status(), "gone");
  ExpectRunNotFound(store_->DeleteRun(Key("gone")), "gone");

  // The request id is free: the same request now creates a new run.
  absl::StatusOr<CreateRunResult> again = store_->CreateRun(MakeRun(Key("gone"), 4, "req-1"));
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
      EXPECT_EQ(run.name(), absl::StrCat("datasets/dataset-1/runs/", run.anno_key()));
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

  auto keys = [this](const std::string& backend, labelport::v1::RunState state,
                     const std::string& slug) { return ListedKeys(backend, state, slug); };
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

  absl::StatusOr<SampleIdPage> page = store_->ListRunSamples(Key("paged"), 0, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->sample_ids, std::vector<std::string>(expected.begin(), expected.begin() + 7));
  EXPECT_EQ(page->next_start_position, 7);

  page = store_->ListRunSamples(Key("paged"), 95, 7);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->sample_ids, std::vector<std::string>(expected.begin() + 95, expected.end()));
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
  ExpectRunNotFound(store_->ListRunSamples(Key("missing"), 0, 5).status(), "missing");
  // The key exists, but in another dataset or tenant.
  ExpectRunNotFound(store_->GetRun(Key("exists", "dataset-2")).status(), "exists");
  ExpectRunNotFound(store_->GetRun(Key("exists", kDataset, "t2")).status(), "exists");
}

TEST_P(RunStoreConformanceTest, RejectsBadPageArguments) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("k"))).ok());
  ListRunsQuery query = Query(0);
  EXPECT_EQ(store_->ListRuns(query).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListRunSamples(Key("k"), 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListRunSamples(Key("k"), -1, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- The upload job API (addressed by uid) ---

TEST_P(RunStoreConformanceTest, UidIsSetDistinctAndStableAcrossRename) {
  absl::StatusOr<CreateRunResult> first = store_->CreateRun(MakeRun(Key("a")));
  absl::StatusOr<CreateRunResult> second = store_->CreateRun(MakeRun(Key("b")));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(first->run.uid().empty());
  EXPECT_EQ(first->run.uid(), first->run_id);
  EXPECT_EQ(second->run.uid(), second->run_id);
  EXPECT_NE(first->run.uid(), second->run.uid());

  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("a"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->uid(), first->run_id);
  absl::StatusOr<ListRunsPage> page = store_->ListRuns(Query());
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->runs.size(), 2u);
  EXPECT_EQ(page->runs[0].uid(), first->run_id);
  EXPECT_EQ(page->runs[1].uid(), second->run_id);

  absl::StatusOr<labelport::v1::AnnotationRun> renamed = store_->RenameRun(Key("a"), "c");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->uid(), first->run_id);
  absl::StatusOr<labelport::v1::AnnotationRun> by_uid = store_->GetRunByUid(first->run_id);
  ASSERT_TRUE(by_uid.ok()) << by_uid.status();
  EXPECT_EQ(by_uid->anno_key(), "c");
  EXPECT_EQ(by_uid->SerializeAsString(), renamed->SerializeAsString());

  // A replayed create returns the uid too.
  absl::StatusOr<CreateRunResult> replay = store_->CreateRun(MakeRun(Key("x"), 1, "req"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  replay = store_->CreateRun(MakeRun(Key("x"), 1, "req"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run.uid(), replay->run_id);
  EXPECT_EQ(replay->run.revision(), 1);
}

TEST_P(RunStoreConformanceTest, RevisionStartsAtOneAndGrowsWithEveryChange) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("r")));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->run.revision(), 1);
  EXPECT_THAT(store_->GetRun(Key("r")),
              IsOkAndHolds(::testing::Property(&labelport::v1::AnnotationRun::revision, 1)));

  labelport::v1::AnnotationRun previous = created->run;
  for (int64_t expected = 2; expected <= 4; ++expected) {
    absl::StatusOr<labelport::v1::AnnotationRun> updated =
        store_->UpdateRun(created->run_id, [expected](labelport::v1::AnnotationRun& run) {
          run.mutable_progress()->set_samples_completed(expected);
          return absl::OkStatus();
        });
    ASSERT_TRUE(updated.ok()) << updated.status();
    EXPECT_EQ(updated->revision(), expected);
    EXPECT_EQ(updated->progress().samples_completed(), expected);
    EXPECT_EQ(updated->create_time().SerializeAsString(),
              created->run.create_time().SerializeAsString());
    EXPECT_GE(std::make_pair(updated->update_time().seconds(), updated->update_time().nanos()),
              std::make_pair(previous.update_time().seconds(), previous.update_time().nanos()));
    absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("r"));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->SerializeAsString(), updated->SerializeAsString());
    previous = *updated;
  }
  // A rename is a change of the run too.
  absl::StatusOr<labelport::v1::AnnotationRun> renamed = store_->RenameRun(Key("r"), "r2");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->revision(), 5);
}

TEST_P(RunStoreConformanceTest, UpdateRunCannotChangeStoreOwnedFields) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("owned"), 2, "req-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<labelport::v1::AnnotationRun> updated =
      store_->UpdateRun(created->run_id, [](labelport::v1::AnnotationRun& run) {
        run.set_name("datasets/evil/runs/evil");
        run.set_dataset("evil");
        run.set_anno_key("evil");
        run.set_uid("evil");
        run.set_revision(1000);
        run.mutable_create_time()->set_seconds(1);
        run.mutable_update_time()->set_seconds(1);
        run.set_failure_reason("boom");
        run.set_state(labelport::v1::RUN_STATE_FAILED);
        return absl::OkStatus();
      });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->name(), "datasets/dataset-1/runs/owned");
  EXPECT_EQ(updated->dataset(), "dataset-1");
  EXPECT_EQ(updated->anno_key(), "owned");
  EXPECT_EQ(updated->uid(), created->run_id);
  EXPECT_EQ(updated->revision(), 2);
  EXPECT_EQ(updated->create_time().SerializeAsString(),
            created->run.create_time().SerializeAsString());
  EXPECT_GE(updated->update_time().seconds(), created->run.update_time().seconds());
  // The other fields are the mutator's.
  EXPECT_EQ(updated->failure_reason(), "boom");
  EXPECT_EQ(updated->state(), labelport::v1::RUN_STATE_FAILED);
  EXPECT_EQ(updated->request_id(), "req-1");
  EXPECT_EQ(updated->client_metadata().at("owner"), "alice");

  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("owned"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), updated->SerializeAsString());
  ExpectRunNotFound(store_->GetRun(Key("evil", "evil")).status(), "evil");
}

TEST_P(RunStoreConformanceTest, FailedMutatorStoresNothing) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("k")));
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<labelport::v1::AnnotationRun> updated =
      store_->UpdateRun(created->run_id, [](labelport::v1::AnnotationRun& run) {
        run.set_failure_reason("half-done");
        return absl::FailedPreconditionError("not now");
      });
  EXPECT_EQ(updated.status(), absl::FailedPreconditionError("not now"));
  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("k"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->run.SerializeAsString());
}

TEST_P(RunStoreConformanceTest, ListRunsFiltersFollowUpdateRun) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("moving")));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("still"))).ok());
  auto keys = [this](labelport::v1::RunState state, const std::string& slug) {
    return ListedKeys("", state, slug);
  };
  using ::testing::ElementsAre;
  constexpr auto kPending = labelport::v1::RUN_STATE_PENDING;
  constexpr auto kAnnotating = labelport::v1::RUN_STATE_ANNOTATING;
  EXPECT_THAT(keys(kPending, ""), ElementsAre("moving", "still"));

  ASSERT_TRUE(store_
                  ->UpdateRun(created->run_id,
                              [](labelport::v1::AnnotationRun& run) {
                                run.set_state(labelport::v1::RUN_STATE_ANNOTATING);
                                run.mutable_darwin()->set_dataset_slug("slug-2");
                                return absl::OkStatus();
                              })
                  .ok());
  EXPECT_THAT(keys(kPending, ""), ElementsAre("still"));
  EXPECT_THAT(keys(kAnnotating, ""), ElementsAre("moving"));
  EXPECT_THAT(keys(labelport::v1::RUN_STATE_UNSPECIFIED, "slug-2"), ElementsAre("moving"));
  EXPECT_THAT(keys(kAnnotating, "slug-1"), ElementsAre());
}

TEST_P(RunStoreConformanceTest, ConcurrentUpdatesOfOneRunLoseNothing) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("counter")));
  ASSERT_TRUE(created.ok()) << created.status();
  constexpr int kThreads = 8;
  constexpr int kUpdatesPerThread = 10;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kUpdatesPerThread; ++j) {
        absl::StatusOr<labelport::v1::AnnotationRun> updated =
            store_->UpdateRun(created->run_id, [](labelport::v1::AnnotationRun& run) {
              run.mutable_progress()->set_samples_completed(run.progress().samples_completed() + 1);
              return absl::OkStatus();
            });
        EXPECT_TRUE(updated.ok()) << updated.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRunByUid(created->run_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->progress().samples_completed(), kThreads * kUpdatesPerThread);
  EXPECT_EQ(got->revision(), 1 + kThreads * kUpdatesPerThread);
}

TEST_P(RunStoreConformanceTest, LoadSamplesReturnsRangesInUploadOrder) {
  NewRun run = MakeRun(Key("samples"), 10);
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  auto ids = [&](int64_t start, int count) -> std::vector<std::string> {
    absl::StatusOr<std::vector<labelport::v1::Sample>> samples =
        store_->LoadSamples(created->run_id, start, count);
    EXPECT_TRUE(samples.ok()) << samples.status();
    std::vector<std::string> out;
    if (samples.ok()) {
      for (const auto& sample : *samples) out.push_back(sample.id());
    }
    return out;
  };
  const std::vector<std::string> all = SampleIds(run);
  EXPECT_EQ(ids(0, 3), std::vector<std::string>(all.begin(), all.begin() + 3));
  EXPECT_EQ(ids(4, 2), std::vector<std::string>(all.begin() + 4, all.begin() + 6));
  EXPECT_EQ(ids(8, 5), std::vector<std::string>(all.begin() + 8, all.end()));
  EXPECT_EQ(ids(10, 5), std::vector<std::string>());
  EXPECT_EQ(ids(0, 100), all);

  // Whole samples, as given.
  absl::StatusOr<std::vector<labelport::v1::Sample>> samples =
      store_->LoadSamples(created->run_id, 0, 100);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), run.samples.size());
  for (size_t i = 0; i < run.samples.size(); ++i) {
    EXPECT_EQ((*samples)[i].SerializeAsString(), run.samples[i].SerializeAsString());
  }

  EXPECT_EQ(store_->LoadSamples(created->run_id, -1, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LoadSamples(created->run_id, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(RunStoreConformanceTest, StagedSamplesApplyOnlyOnCommit) {
  NewRun run = MakeRun(Key("staged"), 4);
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  auto sample_at = [&](int64_t position) {
    auto samples = store_->LoadSamples(uid, position, 1);
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok() && !samples->empty() ? samples->front() : labelport::v1::Sample();
  };
  labelport::v1::Sample changed = run.samples[1];
  changed.set_width(1234);
  labelport::v1::Sample changed3 = run.samples[3];
  changed3.set_height(77);
  ASSERT_TRUE(store_->StageSamples(uid, "load-a", {{1, changed}}).ok());
  ASSERT_TRUE(store_->StageSamples(uid, "load-a", {{3, changed3}}).ok());
  // Staged, not applied.
  EXPECT_EQ(sample_at(1).width(), run.samples[1].width());
  // Another stage of the same run is independent and can be discarded.
  labelport::v1::Sample other = run.samples[1];
  other.set_width(1);
  ASSERT_TRUE(store_->StageSamples(uid, "load-b", {{1, other}}).ok());
  ASSERT_TRUE(store_->DiscardStagedSamples(uid, "load-b").ok());

  ASSERT_TRUE(store_->CommitStagedSamples(uid, "load-a").ok());
  EXPECT_EQ(sample_at(1).width(), 1234);
  EXPECT_EQ(sample_at(3).height(), 77);
  EXPECT_EQ(sample_at(0).SerializeAsString(), run.samples[0].SerializeAsString());
  // The stage is gone: committing it again changes nothing.
  ASSERT_TRUE(store_->CommitStagedSamples(uid, "load-b").ok());
  EXPECT_EQ(sample_at(1).width(), 1234);

  // A staged sample whose id does not match its position is refused whole.
  labelport::v1::Sample wrong = run.samples[2];
  wrong.set_id("not-this-one");
  labelport::v1::Sample fine = run.samples[0];
  fine.set_width(5);
  ASSERT_TRUE(store_->StageSamples(uid, "load-c", {{0, fine}, {2, wrong}}).ok());
  EXPECT_EQ(store_->CommitStagedSamples(uid, "load-c").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sample_at(0).width(), run.samples[0].width());
  EXPECT_EQ(store_->StageSamples("no-such-run", "x", {{0, fine}}).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(RunStoreConformanceTest, SampleProgressUpsertsAndSurvivesRestart) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("progress"), 5));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  EXPECT_THAT(AllProgress(uid), IsOkAndHolds(::testing::IsEmpty()));

  std::vector<SampleProgress> batch = {
      Progress(3, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "item-3"),
      Progress(0, labelport::internal::v1::SAMPLE_STEP_UPLOADED, "item-0"),
      Progress(1, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "item-1")};
  ASSERT_TRUE(store_->SaveSampleProgress(uid, batch).ok());
  // A later save of position 1 replaces it; position 4 is new.
  SampleProgress failed = Progress(1, labelport::internal::v1::SAMPLE_STEP_FAILED, "item-1");
  failed.set_error_stage("upload");
  failed.set_error_message("connection reset uploading 'a.jpg'");
  failed.set_attempts(3);
  ASSERT_TRUE(
      store_
          ->SaveSampleProgress(
              uid, {failed, Progress(4, labelport::internal::v1::SAMPLE_STEP_PROCESSED, "item-4")})
          .ok());
  const std::vector<std::string> expected = {
      batch[1].SerializeAsString(), failed.SerializeAsString(), batch[0].SerializeAsString(),
      Progress(4, labelport::internal::v1::SAMPLE_STEP_PROCESSED, "item-4").SerializeAsString()};
  EXPECT_THAT(Serialized(AllProgress(uid)), IsOkAndHolds(expected));

  // A position that is not a sample of the run rejects the whole batch.
  for (int64_t bad : {int64_t{-1}, int64_t{5}}) {
    absl::Status status = store_->SaveSampleProgress(
        uid, {Progress(2, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "item-2"),
              Progress(bad, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "x")});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(common::ErrorField(status), "progress.position");
  }
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_THAT(Serialized(AllProgress(uid)), IsOkAndHolds(expected));
  // Saving progress is not a change of the run record.
  EXPECT_THAT(store_->GetRunByUid(uid),
              IsOkAndHolds(::testing::Property(&labelport::v1::AnnotationRun::revision, 1)));
}

// A job walks a run's progress in bounded pages: a range returns only the
// records inside it (never more than its size), by position.
TEST_P(RunStoreConformanceTest, SampleProgressIsReadInBoundedRanges) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("progress-range"), 10));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  EXPECT_THAT(store_->LoadSampleProgressRange(uid, 0, 10), IsOkAndHolds(::testing::IsEmpty()));
  std::vector<SampleProgress> saved;
  for (int64_t position : {9, 0, 2, 3, 7, 5})
    saved.push_back(Progress(position, labelport::internal::v1::SAMPLE_STEP_REGISTERED,
                             absl::StrCat("item-", position)));
  ASSERT_TRUE(store_->SaveSampleProgress(uid, saved).ok());
  auto positions = [&](int64_t start, int count) -> std::vector<int64_t> {
    auto records = store_->LoadSampleProgressRange(uid, start, count);
    EXPECT_TRUE(records.ok()) << records.status();
    std::vector<int64_t> out;
    if (!records.ok()) return out;
    for (const auto& r : *records) {
      EXPECT_EQ(r.item_id(), absl::StrCat("item-", r.position()));
      out.push_back(r.position());
    }
    return out;
  };
  EXPECT_THAT(positions(0, 1), ::testing::ElementsAre(0));
  EXPECT_THAT(positions(1, 1), ::testing::IsEmpty());
  EXPECT_THAT(positions(0, 3), ::testing::ElementsAre(0, 2));
  EXPECT_THAT(positions(2, 4), ::testing::ElementsAre(2, 3, 5));
  EXPECT_THAT(positions(6, 4), ::testing::ElementsAre(7, 9));
  EXPECT_THAT(positions(0, 100), ::testing::ElementsAre(0, 2, 3, 5, 7, 9));
  EXPECT_THAT(positions(10, 5), ::testing::IsEmpty());
  EXPECT_EQ(store_->LoadSampleProgressRange(uid, -1, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LoadSampleProgressRange(uid, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LoadSampleProgressRange("no-such-run", 0, 5).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(RunStoreConformanceTest, AnnotationLinksAreReadPerItem) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("links-by-item"), 2));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  std::vector<labelport::internal::v1::AnnotationLink> links;
  for (int i = 0; i < 5; ++i) {
    labelport::internal::v1::AnnotationLink link;
    link.set_annotation_id(absl::StrCat("ann-", i));
    link.set_label_id(absl::StrCat("label-", i));
    link.set_item_id(i < 3 ? "item-a" : "item-b");
    links.push_back(link);
  }
  ASSERT_TRUE(store_->SaveAnnotationLinks(uid, links).ok());
  auto a = store_->LoadAnnotationLinksForItem(uid, "item-a");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 3u);
  for (const auto& l : *a) EXPECT_EQ(l.item_id(), "item-a");
  auto b = store_->LoadAnnotationLinksForItem(uid, "item-b");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 2u);
  std::set<std::string> b_ids;
  for (const auto& l : *b) b_ids.insert(l.annotation_id());
  EXPECT_EQ(b_ids, (std::set<std::string>{"ann-3", "ann-4"}));
  auto none = store_->LoadAnnotationLinksForItem(uid, "item-c");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(store_->LoadAnnotationLinksForItem("no-such-run", "item-a").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(RunStoreConformanceTest, AnnotationLinksUpsertAndSurviveRestart) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("links"), 2));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("other"), 2)).ok());
  const std::string uid = created->run_id;
  EXPECT_THAT(store_->LoadAnnotationLinks(uid), IsOkAndHolds(::testing::IsEmpty()));

  AnnotationLink b = Link("ann-b", "label-1", 0);
  AnnotationLink a = Link("ann-a", "label-2", 0);
  ASSERT_TRUE(store_->SaveAnnotationLinks(uid, {b, a}).ok());
  AnnotationLink b2 = Link("ann-b", "label-1", 1);
  AnnotationLink c = Link("ann-c", "label-3", 0);
  ASSERT_TRUE(store_->SaveAnnotationLinks(uid, {c, b2}).ok());
  const std::vector<std::string> expected = {a.SerializeAsString(), b2.SerializeAsString(),
                                             c.SerializeAsString()};
  EXPECT_THAT(Serialized(store_->LoadAnnotationLinks(uid)), IsOkAndHolds(expected));

  absl::Status empty_id =
      store_->SaveAnnotationLinks(uid, {Link("ann-d", "l", 0), Link("", "l", 0)});
  EXPECT_EQ(empty_id.code(), absl::StatusCode::kInvalidArgument) << empty_id;

  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_THAT(Serialized(store_->LoadAnnotationLinks(uid)), IsOkAndHolds(expected));
  // Links belong to their run.
  absl::StatusOr<labelport::v1::AnnotationRun> other = store_->GetRun(Key("other"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(store_->LoadAnnotationLinks(other->uid()), IsOkAndHolds(::testing::IsEmpty()));
}

// The backend state is opaque: any bytes under any type_url come back as
// saved, the last save wins (its type too), and it survives a restart.
TEST_P(RunStoreConformanceTest, BackendStateIsOpaqueDefaultsToEmptyAndSurvivesRestart) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("backend")));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  absl::StatusOr<google::protobuf::Any> empty = store_->LoadBackendState(uid);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->type_url(), "");
  EXPECT_EQ(empty->value(), "");

  google::protobuf::Any first;
  first.set_type_url("type.googleapis.com/example.FirstState");
  first.set_value(std::string("\0\1binary\377", 9));
  ASSERT_TRUE(store_->SaveBackendState(uid, first).ok());
  EXPECT_THAT(store_->LoadBackendState(uid),
              IsOkAndHolds(::testing::Property(&google::protobuf::Any::value, first.value())));

  google::protobuf::Any second;
  second.set_type_url("type.googleapis.com/example.SecondState");
  second.set_value("second");
  ASSERT_TRUE(store_->SaveBackendState(uid, second).ok());

  ASSERT_NO_FATAL_FAILURE(Restart());
  absl::StatusOr<google::protobuf::Any> got = store_->LoadBackendState(uid);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type_url(), "type.googleapis.com/example.SecondState");
  EXPECT_EQ(got->value(), "second");

  // Another run's state is its own.
  absl::StatusOr<CreateRunResult> other = store_->CreateRun(MakeRun(Key("backend-other")));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(store_->LoadBackendState(other->run_id),
              IsOkAndHolds(::testing::Property(&google::protobuf::Any::type_url, "")));
}

TEST_P(RunStoreConformanceTest, BackendStateWithoutTypeIsRefused) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("untyped")));
  ASSERT_TRUE(created.ok()) << created.status();
  google::protobuf::Any untyped;
  untyped.set_value("bytes");
  absl::Status status = store_->SaveBackendState(created->run_id, untyped);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(created->run_id));
  EXPECT_EQ(common::ErrorField(status), "state.type_url");
  EXPECT_EQ(common::ErrorReason(status), "EMPTY_BACKEND_STATE_TYPE");
  EXPECT_THAT(store_->LoadBackendState(created->run_id),
              IsOkAndHolds(::testing::Property(&google::protobuf::Any::type_url, "")));
}

TEST_P(RunStoreConformanceTest, LeaseIsExclusiveExtendableAndReleasable) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("leased")));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(true));
  EXPECT_THAT(store_->AcquireLease(uid, "worker-b", absl::Minutes(1)), IsOkAndHolds(false));
  // The holder extends its lease.
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(true));
  // Someone else's release does nothing.
  EXPECT_TRUE(store_->ReleaseLease(uid, "worker-b").ok());
  EXPECT_THAT(store_->AcquireLease(uid, "worker-b", absl::Minutes(1)), IsOkAndHolds(false));
  EXPECT_TRUE(store_->ReleaseLease(uid, "worker-a").ok());
  EXPECT_TRUE(store_->ReleaseLease(uid, "worker-a").ok());
  EXPECT_THAT(store_->AcquireLease(uid, "worker-b", absl::Minutes(1)), IsOkAndHolds(true));
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(false));
  // Leases are not part of the record.
  EXPECT_THAT(store_->GetRunByUid(uid),
              IsOkAndHolds(::testing::Property(&labelport::v1::AnnotationRun::revision, 1)));

  EXPECT_EQ(store_->AcquireLease(uid, "", absl::Minutes(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AcquireLease(uid, "w", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(RunStoreConformanceTest, ExpiredLeaseCanBeTakenOver) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("expiring")));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(true));
  EXPECT_THAT(store_->AcquireLease(uid, "worker-b", absl::Minutes(1)), IsOkAndHolds(false));
  // The holder renews with a short ttl (a renewal sets the expiry anew):
  // worker-b gets the lease once it has expired, not before.
  const absl::Time renewed = absl::Now();
  const absl::Duration ttl = absl::Milliseconds(50);
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", ttl), IsOkAndHolds(true));
  ASSERT_TRUE(WaitToAcquire(uid, "worker-b"));
  EXPECT_GE(absl::Now() - renewed, ttl);
  // The old holder lost it: it can neither extend nor release it.
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(false));
  EXPECT_TRUE(store_->ReleaseLease(uid, "worker-a").ok());
  EXPECT_THAT(store_->AcquireLease(uid, "worker-a", absl::Minutes(1)), IsOkAndHolds(false));
}

TEST_P(RunStoreConformanceTest, ListClaimableRunsSkipsLeasedFinishedAndDeleted) {
  auto create = [this](const RunKey& key, labelport::v1::RunState state) {
    NewRun run = MakeRun(key, 1);
    run.record.set_state(state);
    absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return std::string();
    // Creation order is the claim order; keep create times apart.
    EXPECT_TRUE(WaitPastCreateTime(created->run));
    return created->run_id;
  };
  using labelport::v1::RUN_STATE_ANNOTATING;
  using labelport::v1::RUN_STATE_CLEANED_UP;
  using labelport::v1::RUN_STATE_FAILED;
  using labelport::v1::RUN_STATE_PENDING;
  using labelport::v1::RUN_STATE_UPLOADING;
  const std::string pending = create(Key("pending"), RUN_STATE_PENDING);
  create(Key("annotating"), RUN_STATE_ANNOTATING);
  const std::string leased = create(Key("leased"), RUN_STATE_UPLOADING);
  const std::string uploading = create(Key("uploading", "dataset-2", "t2"), RUN_STATE_UPLOADING);
  create(Key("failed"), RUN_STATE_FAILED);
  create(Key("cleaned"), RUN_STATE_CLEANED_UP);
  const std::string deleted = create(Key("deleted"), RUN_STATE_PENDING);
  const std::string expiring = create(Key("expiring"), RUN_STATE_PENDING);
  const std::string finishing = create(Key("finishing"), RUN_STATE_UPLOADING);

  ASSERT_THAT(store_->AcquireLease(leased, "w1", absl::Minutes(1)), IsOkAndHolds(true));
  ASSERT_THAT(store_->AcquireLease(expiring, "w2", absl::Minutes(1)), IsOkAndHolds(true));
  ASSERT_TRUE(store_->DeleteRun(Key("deleted")).ok());
  ASSERT_TRUE(store_
                  ->UpdateRun(finishing,
                              [](labelport::v1::AnnotationRun& run) {
                                run.set_state(RUN_STATE_ANNOTATING);
                                return absl::OkStatus();
                              })
                  .ok());

  auto claimable = [this](int max_count) { return ClaimableIds(max_count); };
  using ::testing::ElementsAre;
  EXPECT_THAT(claimable(10), ElementsAre(pending, uploading));
  // The lease holder itself sees its runs (a restarted worker takes them back).
  absl::StatusOr<std::vector<ClaimableRun>> own = store_->ListClaimableRuns(10, "w1");
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->size(), 3u);
  // Round-robin across tenants: t2's only run comes before the second of t1.
  EXPECT_EQ((*own)[2].run_id, leased);
  // w2 renews with a short ttl; once the lease expires, the run is claimable.
  ASSERT_THAT(store_->AcquireLease(expiring, "w2", absl::Milliseconds(20)), IsOkAndHolds(true));
  ASSERT_TRUE(::labelport::testing::WaitUntil([&] { return claimable(10).size() == 3; },
                                              absl::Seconds(10), "the expired lease's run listed"));
  EXPECT_THAT(claimable(10), ElementsAre(pending, uploading, expiring));
  EXPECT_THAT(claimable(2), ElementsAre(pending, uploading));

  // The key of each run comes with it.
  absl::StatusOr<std::vector<ClaimableRun>> runs = store_->ListClaimableRuns(2, "");
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[1].key.tenant, "t2");
  EXPECT_EQ((*runs)[1].key.dataset, "dataset-2");
  EXPECT_EQ((*runs)[1].key.anno_key, "uploading");

  // A released lease makes the run claimable again.
  ASSERT_TRUE(store_->ReleaseLease(leased, "w1").ok());
  EXPECT_THAT(claimable(10), ElementsAre(pending, uploading, leased, expiring));
  EXPECT_EQ(store_->ListClaimableRuns(0, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(RunStoreConformanceTest, ListClaimableRunsTakesTurnsAcrossTenants) {
  // Tenant "busy" has a backlog of older runs; "quiet" has one newer run. A
  // worker asking for two runs must see quiet's run, not two of busy's.
  auto create = [this](const RunKey& key) {
    absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(key, 1));
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return std::string();
    EXPECT_TRUE(WaitPastCreateTime(created->run));  // distinct create times: a defined order
    return created->run_id;
  };
  const std::string busy1 = create(Key("b1", "d", "busy"));
  const std::string busy2 = create(Key("b2", "d", "busy"));
  const std::string busy3 = create(Key("b3", "d", "busy"));
  const std::string quiet1 = create(Key("q1", "d", "quiet"));
  const std::string quiet2 = create(Key("q2", "d", "quiet"));
  auto ids = [this](int max_count) { return ClaimableIds(max_count); };
  using ::testing::ElementsAre;
  EXPECT_THAT(ids(2), ElementsAre(busy1, quiet1));
  EXPECT_THAT(ids(10), ElementsAre(busy1, quiet1, busy2, quiet2, busy3));
  // A leased run leaves the rotation; the tenant's next run takes its turn.
  ASSERT_THAT(store_->AcquireLease(busy1, "w", absl::Minutes(1)), IsOkAndHolds(true));
  EXPECT_THAT(ids(3), ElementsAre(busy2, quiet1, busy3));
}

// Across processes when the store can be shared, several rounds.
TEST_P(RunStoreConformanceTest, ConcurrentAcquireLeaseHasOneWinner) {
  constexpr int kThreads = 8;
  const std::vector<RunStore*> stores = Contenders(kThreads);
  ASSERT_EQ(stores.size(), size_t{kThreads});
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<CreateRunResult> created =
        store_->CreateRun(MakeRun(Key(absl::StrCat("contended-", round))));
    ASSERT_TRUE(created.ok()) << created.status();
    std::atomic<int> winners{0};
    RunTogether(kThreads, [&](int i) {
      absl::StatusOr<bool> won =
          stores[i]->AcquireLease(created->run_id, absl::StrCat("worker-", i), absl::Minutes(1));
      ASSERT_TRUE(won.ok()) << won.status();
      if (*won) ++winners;
    });
    EXPECT_EQ(winners.load(), 1);
  }
}

TEST_P(RunStoreConformanceTest, DeleteRunRemovesTheWholeJob) {
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(MakeRun(Key("doomed"), 3));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string uid = created->run_id;
  ASSERT_TRUE(store_
                  ->SaveSampleProgress(
                      uid, {Progress(0, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "item-0")})
                  .ok());
  ASSERT_TRUE(store_->SaveAnnotationLinks(uid, {Link("ann", "label", 0)}).ok());
  google::protobuf::Any state;
  state.set_type_url("type.googleapis.com/example.State");
  state.set_value("team");
  ASSERT_TRUE(store_->SaveBackendState(uid, state).ok());
  ASSERT_THAT(store_->AcquireLease(uid, "w", absl::Minutes(1)), IsOkAndHolds(true));
  ASSERT_TRUE(store_->DeleteRun(Key("doomed")).ok());

  for (const std::string& missing : {uid, std::string("no-such-uid")}) {
    SCOPED_TRACE(missing);
    auto expect_not_found = [&missing](const absl::Status& status) {
      EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
      EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(missing));
      EXPECT_EQ(common::ErrorField(status), "uid");
      EXPECT_EQ(common::ErrorReason(status), "RUN_NOT_FOUND");
    };
    expect_not_found(store_->GetRunByUid(missing).status());
    expect_not_found(store_
                         ->UpdateRun(missing,
                                     [](labelport::v1::AnnotationRun&) {
                                       ADD_FAILURE() << "mutator called for a missing run";
                                       return absl::OkStatus();
                                     })
                         .status());
    expect_not_found(store_->LoadSamples(missing, 0, 10).status());
    expect_not_found(store_->SaveSampleProgress(
        missing, {Progress(0, labelport::internal::v1::SAMPLE_STEP_REGISTERED, "item-0")}));
    expect_not_found(store_->LoadSampleProgressRange(missing, 0, 10).status());
    expect_not_found(store_->SaveAnnotationLinks(missing, {Link("ann", "label", 0)}));
    expect_not_found(store_->LoadAnnotationLinks(missing).status());
    expect_not_found(store_->SaveBackendState(missing, state));
    expect_not_found(store_->LoadBackendState(missing).status());
    expect_not_found(store_->AcquireLease(missing, "w", absl::Minutes(1)).status());
    expect_not_found(store_->ReleaseLease(missing, "w"));
  }
  EXPECT_THAT(store_->ListClaimableRuns(10, ""), IsOkAndHolds(::testing::IsEmpty()));

  // A new run under the old key starts from nothing.
  absl::StatusOr<CreateRunResult> again = store_->CreateRun(MakeRun(Key("doomed"), 3));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->run_id, uid);
  EXPECT_THAT(AllProgress(again->run_id), IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(store_->LoadAnnotationLinks(again->run_id), IsOkAndHolds(::testing::IsEmpty()));
  EXPECT_THAT(store_->AcquireLease(again->run_id, "other", absl::Minutes(1)), IsOkAndHolds(true));
}

// --- Run spools ---

// Samples `first`, `first + 1`, ... named "<prefix><n>".
inline std::vector<labelport::v1::Sample> SpoolBatch(const std::string& prefix, int first,
                                                     int count) {
  std::vector<labelport::v1::Sample> samples;
  for (int i = first; i < first + count; ++i) {
    labelport::v1::Sample sample;
    sample.set_id(absl::StrCat(prefix, i));
    sample.mutable_media()->set_path(absl::StrCat("/data/", prefix, i, ".jpg"));
    sample.set_media_type(labelport::v1::MEDIA_TYPE_IMAGE);
    samples.push_back(std::move(sample));
  }
  return samples;
}

MATCHER_P2(IsConflict, kind, id, "is a spool conflict") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  if (!arg->has_value()) {
    *result_listener << "without a conflict";
    return false;
  }
  *result_listener << "conflict on '" << (*arg)->id << "'";
  return (*arg)->kind == kind && (*arg)->id == id;
}

MATCHER(IsNoConflict, "appends without a conflict") {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  if (arg->has_value()) *result_listener << "conflict on '" << (*arg)->id << "'";
  return !arg->has_value();
}

inline void ExpectSpoolNotFound(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_EQ(common::ErrorReason(status), "RUN_SPOOL_NOT_FOUND") << status;
}

constexpr absl::Duration kSpoolTtl = absl::Hours(1);

TEST_P(RunStoreConformanceTest, SpooledRunIsInvisibleUntilCommitted) {
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("spooled"), "req-1", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_FALSE(spool->replay.has_value());
  ASSERT_FALSE(spool->spool_id.empty());
  const std::vector<labelport::v1::Sample> first = SpoolBatch("z", 0, 3);
  const std::vector<labelport::v1::Sample> second = SpoolBatch("a", 0, 2);
  EXPECT_THAT(store_->AppendToRunSpool(spool->spool_id, 0, first, {"l1", "l2"}, kSpoolTtl),
              IsNoConflict());
  EXPECT_THAT(store_->AppendToRunSpool(spool->spool_id, 3, second, {"l3"}, kSpoolTtl),
              IsNoConflict());

  ExpectRunNotFound(store_->GetRun(Key("spooled")).status(), "spooled");
  ExpectRunNotFound(store_->ListRunSamples(Key("spooled"), 0, 10).status(), "spooled");
  ExpectRunNotFound(store_->DeleteRun(Key("spooled")), "spooled");
  EXPECT_THAT(store_->ListRuns(Query()),
              IsOkAndHolds(::testing::Field(&ListRunsPage::runs, ::testing::IsEmpty())));
  EXPECT_THAT(store_->ListClaimableRuns(10, ""), IsOkAndHolds(::testing::IsEmpty()));
  // Another call for the same key may begin its own spool (one commit wins).
  absl::StatusOr<RunSpool> other = store_->BeginRunSpool(Key("spooled"), "", "w1", kSpoolTtl);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->spool_id, spool->spool_id);
  ASSERT_TRUE(store_->DiscardRunSpool(other->spool_id).ok());

  NewRun run = MakeRun(Key("spooled"), 0, "req-1");
  run.record.mutable_progress()->set_samples_total(5);
  absl::StatusOr<CreateRunResult> created = store_->CommitRunSpool(spool->spool_id, run);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->run_id, spool->spool_id);
  EXPECT_EQ(created->run.uid(), spool->spool_id);
  EXPECT_EQ(created->run.name(), "datasets/dataset-1/runs/spooled");
  EXPECT_EQ(created->run.revision(), 1);
  EXPECT_EQ(created->run.update_time().SerializeAsString(),
            created->run.create_time().SerializeAsString());
  absl::StatusOr<labelport::v1::AnnotationRun> got = store_->GetRun(Key("spooled"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->run.SerializeAsString());
  EXPECT_THAT(AllSampleIds(Key("spooled"), 2),
              IsOkAndHolds(::testing::ElementsAre("z0", "z1", "z2", "a0", "a1")));
  absl::StatusOr<std::vector<labelport::v1::Sample>> loaded =
      store_->LoadSamples(spool->spool_id, 3, 10);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[1].SerializeAsString(), second[1].SerializeAsString());
  EXPECT_THAT(store_->ListClaimableRuns(10, ""),
              IsOkAndHolds(::testing::ElementsAre(
                  ::testing::Field(&ClaimableRun::run_id, spool->spool_id))));
  // Committed: the spool is gone, the request id is recorded.
  ExpectSpoolNotFound(
      store_->AppendToRunSpool(spool->spool_id, 5, SpoolBatch("b", 0, 1), {}, kSpoolTtl).status());
  absl::StatusOr<CreateRunResult> replay = store_->CreateRun(MakeRun(Key("again"), 1, "req-1"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run_id, spool->spool_id);
}

TEST_P(RunStoreConformanceTest, SpoolRefusesRepeatedSampleAndLabelIdsAcrossBatches) {
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("dupes"), "", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  const std::string& id = spool->spool_id;
  using Kind = SpoolConflict::Kind;
  ASSERT_THAT(store_->AppendToRunSpool(id, 0, SpoolBatch("s", 0, 2), {"l0", "l1"}, kSpoolTtl),
              IsNoConflict());
  // An id of an earlier batch: nothing of the batch is stored.
  std::vector<labelport::v1::Sample> batch = SpoolBatch("s", 2, 2);
  batch.push_back(SpoolBatch("s", 0, 1)[0]);
  EXPECT_THAT(store_->AppendToRunSpool(id, 2, batch, {"l2"}, kSpoolTtl),
              IsConflict(Kind::kSampleId, "s0"));
  EXPECT_THAT(store_->AppendToRunSpool(id, 2, SpoolBatch("s", 2, 1), {"l2", "l1"}, kSpoolTtl),
              IsConflict(Kind::kLabelId, "l1"));
  // Repeats within one batch.
  std::vector<labelport::v1::Sample> twice = SpoolBatch("s", 5, 1);
  twice.push_back(twice[0]);
  EXPECT_THAT(store_->AppendToRunSpool(id, 2, twice, {}, kSpoolTtl),
              IsConflict(Kind::kSampleId, "s5"));
  EXPECT_THAT(store_->AppendToRunSpool(id, 2, SpoolBatch("s", 6, 1), {"x", "x"}, kSpoolTtl),
              IsConflict(Kind::kLabelId, "x"));
  // The refused batches left the positions free.
  ASSERT_THAT(store_->AppendToRunSpool(id, 2, SpoolBatch("s", 2, 2), {"l2"}, kSpoolTtl),
              IsNoConflict());
  ASSERT_TRUE(store_->CommitRunSpool(id, MakeRun(Key("dupes"), 0)).ok());
  EXPECT_THAT(AllSampleIds(Key("dupes")),
              IsOkAndHolds(::testing::ElementsAre("s0", "s1", "s2", "s3")));
}

TEST_P(RunStoreConformanceTest, DiscardedSpoolLeavesNothing) {
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("gone"), "req-9", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_THAT(
      store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch("s", 0, 3), {"l0"}, kSpoolTtl),
      IsNoConflict());
  ASSERT_TRUE(store_->DiscardRunSpool(spool->spool_id).ok());
  EXPECT_TRUE(store_->DiscardRunSpool(spool->spool_id).ok()) << "idempotent";
  ExpectSpoolNotFound(
      store_->AppendToRunSpool(spool->spool_id, 3, SpoolBatch("s", 3, 1), {}, kSpoolTtl).status());
  ExpectSpoolNotFound(store_->CommitRunSpool(spool->spool_id, MakeRun(Key("gone"), 0)).status());
  EXPECT_EQ(store_->LoadSamples(spool->spool_id, 0, 10).status().code(),
            absl::StatusCode::kNotFound);
  // Neither the key, nor the request id, nor the ids are taken.
  NewRun run = MakeRun(Key("gone"), 0, "req-9");
  run.samples = SpoolBatch("s", 0, 3);
  absl::StatusOr<CreateRunResult> created = store_->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  EXPECT_THAT(AllSampleIds(Key("gone")), IsOkAndHolds(::testing::ElementsAre("s0", "s1", "s2")));
}

TEST_P(RunStoreConformanceTest, SpoolOfARecordedRequestIdIsAReplay) {
  absl::StatusOr<CreateRunResult> first = store_->CreateRun(MakeRun(Key("key1"), 2, "req-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<RunSpool> replay = store_->BeginRunSpool(Key("key2"), "req-1", "w1", kSpoolTtl);
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(replay->replay.has_value());
  EXPECT_TRUE(replay->spool_id.empty());
  EXPECT_EQ(replay->replay->run_id, first->run_id);
  EXPECT_FALSE(replay->replay->created);
  EXPECT_EQ(replay->replay->run.SerializeAsString(), first->run.SerializeAsString());

  // A call with the same request id that committed while this one streamed.
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("key3"), "req-2", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_THAT(store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch("s", 0, 2), {}, kSpoolTtl),
              IsNoConflict());
  absl::StatusOr<CreateRunResult> winner = store_->CreateRun(MakeRun(Key("key4"), 1, "req-2"));
  ASSERT_TRUE(winner.ok()) << winner.status();
  absl::StatusOr<CreateRunResult> late =
      store_->CommitRunSpool(spool->spool_id, MakeRun(Key("key3"), 0, "req-2"));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_FALSE(late->created);
  EXPECT_EQ(late->run_id, winner->run_id);
  ExpectRunNotFound(store_->GetRun(Key("key3")).status(), "key3");
  ExpectSpoolNotFound(
      store_->AppendToRunSpool(spool->spool_id, 2, SpoolBatch("s", 2, 1), {}, kSpoolTtl).status());
}

TEST_P(RunStoreConformanceTest, SpoolForATakenKeyIsAlreadyExists) {
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("taken"), 2)).ok());
  absl::StatusOr<RunSpool> early = store_->BeginRunSpool(Key("taken"), "", "w1", kSpoolTtl);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kAlreadyExists) << early.status();
  EXPECT_EQ(early.status().message(), "Annotation run with key 'taken' already exists");

  // Taken while the spool streamed: the commit fails and the spool is gone.
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("late"), "req-3", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_THAT(store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch("x", 0, 2), {}, kSpoolTtl),
              IsNoConflict());
  NewRun winner = MakeRun(Key("late"), 1);
  ASSERT_TRUE(store_->CreateRun(winner).ok());
  absl::StatusOr<CreateRunResult> clash =
      store_->CommitRunSpool(spool->spool_id, MakeRun(Key("late"), 0, "req-3"));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists) << clash.status();
  EXPECT_EQ(common::ErrorReason(clash.status()), "RUN_ALREADY_EXISTS");
  ExpectSpoolNotFound(store_->CommitRunSpool(spool->spool_id, MakeRun(Key("l2"), 0)).status());
  EXPECT_THAT(AllSampleIds(Key("late")), IsOkAndHolds(SampleIds(winner)));
  // The request id was not recorded.
  absl::StatusOr<CreateRunResult> fresh = store_->CreateRun(MakeRun(Key("fresh"), 1, "req-3"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fresh->created);
}

TEST_P(RunStoreConformanceTest, ConcurrentSpoolCommitsWithOneKeyHaveOneWinner) {
  constexpr int kSpools = 6;
  std::vector<std::string> spools;
  for (int i = 0; i < kSpools; ++i) {
    absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("contended"), "", "w1", kSpoolTtl);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_THAT(
        store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch(absl::StrCat("s", i), 0, 20),
                                 {absl::StrCat("l", i)}, kSpoolTtl),
        IsNoConflict());
    spools.push_back(spool->spool_id);
  }
  std::atomic<int> created{0};
  std::atomic<int> clashes{0};
  RunTogether(kSpools, [&](int i) {
    absl::StatusOr<CreateRunResult> result =
        store_->CommitRunSpool(spools[i], MakeRun(Key("contended"), 0, absl::StrCat("r", i)));
    if (result.ok()) {
      ++created;
    } else if (result.status().code() == absl::StatusCode::kAlreadyExists) {
      ++clashes;
    } else {
      ADD_FAILURE() << result.status();
    }
  });
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(clashes.load(), kSpools - 1);
  EXPECT_THAT(AllSampleIds(Key("contended")), IsOkAndHolds(::testing::SizeIs(20)));
  for (const std::string& spool : spools) EXPECT_TRUE(store_->DiscardRunSpool(spool).ok());
  EXPECT_THAT(AllSampleIds(Key("contended")), IsOkAndHolds(::testing::SizeIs(20)));
}

TEST_P(RunStoreConformanceTest, ExpiredSpoolsAreDiscarded) {
  // A negative ttl: expired at once.
  absl::StatusOr<RunSpool> stale = store_->BeginRunSpool(Key("stale"), "", "w1", -absl::Hours(1));
  ASSERT_TRUE(stale.ok()) << stale.status();
  absl::StatusOr<RunSpool> revived =
      store_->BeginRunSpool(Key("revived"), "", "w1", -absl::Hours(1));
  ASSERT_TRUE(revived.ok()) << revived.status();
  absl::StatusOr<RunSpool> fresh = store_->BeginRunSpool(Key("fresh"), "", "w1", kSpoolTtl);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_THAT(
      store_->AppendToRunSpool(stale->spool_id, 0, SpoolBatch("s", 0, 2), {"l"}, -absl::Hours(1)),
      IsNoConflict());
  // An append pushes the expiry.
  ASSERT_THAT(
      store_->AppendToRunSpool(revived->spool_id, 0, SpoolBatch("s", 0, 2), {"l"}, kSpoolTtl),
      IsNoConflict());
  ASSERT_TRUE(store_->CreateRun(MakeRun(Key("live"), 2)).ok());

  EXPECT_THAT(store_->DiscardExpiredRunSpools(), IsOkAndHolds(1));
  ExpectSpoolNotFound(
      store_->AppendToRunSpool(stale->spool_id, 2, SpoolBatch("s", 2, 1), {}, kSpoolTtl).status());
  EXPECT_THAT(store_->AppendToRunSpool(revived->spool_id, 2, SpoolBatch("s", 2, 1), {}, kSpoolTtl),
              IsNoConflict());
  EXPECT_THAT(store_->AppendToRunSpool(fresh->spool_id, 0, SpoolBatch("s", 0, 1), {}, kSpoolTtl),
              IsNoConflict());
  EXPECT_THAT(store_->DiscardExpiredRunSpools(), IsOkAndHolds(0));
  EXPECT_THAT(AllSampleIds(Key("live")), IsOkAndHolds(::testing::SizeIs(2)));
}

TEST_P(RunStoreConformanceTest, SpoolsOfAnOwnerAreDiscardedTogether) {
  std::vector<std::string> mine;
  for (const char* key : {"a", "b"}) {
    absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key(key), "", "w1", kSpoolTtl);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_THAT(
        store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch("s", 0, 2), {"l"}, kSpoolTtl),
        IsNoConflict());
    mine.push_back(spool->spool_id);
  }
  absl::StatusOr<RunSpool> theirs = store_->BeginRunSpool(Key("c"), "", "w2", kSpoolTtl);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  absl::StatusOr<RunSpool> committed = store_->BeginRunSpool(Key("d"), "", "w1", kSpoolTtl);
  ASSERT_TRUE(committed.ok()) << committed.status();
  ASSERT_TRUE(store_->CommitRunSpool(committed->spool_id, MakeRun(Key("d"), 0)).ok());

  Restart();  // as a restarted replica would, at start-up
  EXPECT_THAT(store_->DiscardRunSpoolsOf("w1"), IsOkAndHolds(2));
  for (const std::string& spool : mine)
    ExpectSpoolNotFound(
        store_->AppendToRunSpool(spool, 2, SpoolBatch("s", 2, 1), {}, kSpoolTtl).status());
  EXPECT_THAT(store_->AppendToRunSpool(theirs->spool_id, 0, SpoolBatch("s", 0, 1), {}, kSpoolTtl),
              IsNoConflict());
  EXPECT_TRUE(store_->GetRun(Key("d")).ok());
}

TEST_P(RunStoreConformanceTest, SpoolSurvivesARestart) {
  absl::StatusOr<RunSpool> spool = store_->BeginRunSpool(Key("durable"), "", "w1", kSpoolTtl);
  ASSERT_TRUE(spool.ok()) << spool.status();
  ASSERT_THAT(
      store_->AppendToRunSpool(spool->spool_id, 0, SpoolBatch("s", 0, 2), {"l0"}, kSpoolTtl),
      IsNoConflict());
  Restart();
  ExpectRunNotFound(store_->GetRun(Key("durable")).status(), "durable");
  EXPECT_THAT(
      store_->AppendToRunSpool(spool->spool_id, 2, SpoolBatch("s", 2, 1), {"l0"}, kSpoolTtl),
      IsConflict(SpoolConflict::Kind::kLabelId, "l0"));
  ASSERT_THAT(
      store_->AppendToRunSpool(spool->spool_id, 2, SpoolBatch("s", 2, 1), {"l1"}, kSpoolTtl),
      IsNoConflict());
  ASSERT_TRUE(store_->CommitRunSpool(spool->spool_id, MakeRun(Key("durable"), 0)).ok());
  EXPECT_THAT(AllSampleIds(Key("durable")), IsOkAndHolds(::testing::ElementsAre("s0", "s1", "s2")));
}

}  // namespace labelport::store::testing

#endif  // LABELPORT_TESTS_UNIT_STORE_RUN_STORE_CONFORMANCE_H_
