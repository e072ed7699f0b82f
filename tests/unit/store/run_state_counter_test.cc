// The RunStateCounter contract, run against SQLite and PostgreSQL: counts
// follow creates, state changes and deletes made through the RunStore.
#include "service/store/run_state_counter.h"

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "service/store/database.h"
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

namespace v1 = labelport::v1;

// The counter and the run store of one database.
class RunStateCounterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<DatabaseLocation> location = testing::NewDatabaseLocation(GetParam());
    ASSERT_TRUE(location.ok()) << location.status();
    absl::StatusOr<std::unique_ptr<Database>> database = OpenDatabase(*location);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    store_ = &database_->run_store();
    counter_ = &database_->run_state_counter();
  }

  void Create(const std::string& tenant, const std::string& anno_key, v1::RunState state) {
    NewRun run;
    run.key = {tenant, "dataset", anno_key};
    run.record.set_state(state);
    auto created = store_->CreateRun(run);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  std::unique_ptr<Database> database_;
  RunStore* store_ = nullptr;
  RunStateCounter* counter_ = nullptr;
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

INSTANTIATE_TEST_SUITE_P(AllStores, RunStateCounterTest, testing::DatabaseKinds(),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace labelport::store
