// The RunStateCounter contract, run against SQLite and PostgreSQL: counts
// follow creates, state changes and deletes made through the RunStore.
#include "service/store/run_state_counter.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/postgres_run_state_counter.h"
#include "service/store/postgres_run_store.h"
#include "service/store/sqlite_run_state_counter.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store {
namespace {

namespace v1 = labelport::v1;

const auto* const kDropTestSchemas =
    ::testing::AddGlobalTestEnvironment(new testing::DropTestSchemas);

std::string NewSqlitePath() {
  static int counter = 0;
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("run_state_counter_test_", getpid());
  std::filesystem::create_directories(dir);
  return (dir / absl::StrCat("db-", counter++, ".db")).string();
}

class RunStateCounterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "Sqlite") {
      const std::string path = NewSqlitePath();
      auto store = SqliteRunStore::Create({.path = path});
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
      auto counter = SqliteRunStateCounter::Create({.path = path});
      ASSERT_TRUE(counter.ok()) << counter.status();
      counter_ = *std::move(counter);
    } else {
      absl::StatusOr<std::string> url = testing::NewTestSchema();
      ASSERT_TRUE(url.ok()) << url.status();
      auto store = PostgresRunStore::Create({.url = *url});
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
      auto counter = PostgresRunStateCounter::Create({.url = *url});
      ASSERT_TRUE(counter.ok()) << counter.status();
      counter_ = *std::move(counter);
    }
  }

  void Create(const std::string& tenant, const std::string& anno_key, v1::RunState state) {
    NewRun run;
    run.key = {tenant, "dataset", anno_key};
    run.record.set_state(state);
    auto created = store_->CreateRun(run);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  std::unique_ptr<RunStore> store_;
  std::unique_ptr<RunStateCounter> counter_;
};

TEST_P(RunStateCounterTest, CountsRunsByStateAcrossTenantsAndUpdates) {
  EXPECT_TRUE(counter_->CountRunsByState()->empty());
  Create("t1", "a", v1::RUN_STATE_PENDING);
  Create("t2", "b", v1::RUN_STATE_PENDING);
  Create("t1", "c", v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(
      *counter_->CountRunsByState(),
      (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 2}, {v1::RUN_STATE_ANNOTATING, 1}}));

  auto run = store_->GetRun({"t1", "dataset", "a"});
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(store_
                  ->UpdateRun(run->uid(),
                              [](v1::AnnotationRun& r) {
                                r.set_state(v1::RUN_STATE_FAILED);
                                return absl::OkStatus();
                              })
                  .ok());
  ASSERT_TRUE(store_->DeleteRun({"t1", "dataset", "c"}).ok());
  EXPECT_EQ(
      *counter_->CountRunsByState(),
      (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 1}, {v1::RUN_STATE_FAILED, 1}}));
}

TEST_P(RunStateCounterTest, CountsOneTenantsRunsOnly) {
  EXPECT_TRUE(counter_->CountTenantRunsByState("t1")->empty());
  Create("t1", "a", v1::RUN_STATE_PENDING);
  Create("t1", "b", v1::RUN_STATE_UPLOADING);
  Create("t1", "c", v1::RUN_STATE_UPLOADING);
  Create("t2", "d", v1::RUN_STATE_PENDING);
  EXPECT_EQ(
      *counter_->CountTenantRunsByState("t1"),
      (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 1}, {v1::RUN_STATE_UPLOADING, 2}}));
  EXPECT_EQ(*counter_->CountTenantRunsByState("t2"),
            (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 1}}));
  EXPECT_TRUE(counter_->CountTenantRunsByState("t3")->empty());
}

TEST_P(RunStateCounterTest, SpooledRunsAreNotCounted) {
  auto spool = store_->BeginRunSpool({"t1", "dataset", "spooled"}, "", "w", absl::Hours(1));
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_TRUE(counter_->CountRunsByState()->empty());
  NewRun run;
  run.key = {"t1", "dataset", "spooled"};
  run.record.set_state(v1::RUN_STATE_PENDING);
  ASSERT_TRUE(store_->CommitRunSpool(spool->spool_id, run).ok());
  EXPECT_EQ(*counter_->CountRunsByState(),
            (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 1}}));
}

INSTANTIATE_TEST_SUITE_P(AllStores, RunStateCounterTest, ::testing::Values("Sqlite", "Postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace labelport::store
