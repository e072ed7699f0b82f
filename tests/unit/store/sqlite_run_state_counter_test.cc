#include "service/store/sqlite_run_state_counter.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_run_store.h"

namespace labelport::store {
namespace {

namespace v1 = labelport::v1;

std::string NewDatabasePath() {
  static int counter = 0;
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("run_state_counter_test_", getpid());
  std::filesystem::create_directories(dir);
  return (dir / absl::StrCat("db-", counter++, ".db")).string();
}

void Create(RunStore& store, const std::string& anno_key, v1::RunState state) {
  NewRun run;
  run.key = {"tenant", "dataset", anno_key};
  run.record.set_state(state);
  auto created = store.CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
}

TEST(SqliteRunStateCounterTest, CountsRunsByStateAcrossTenantsAndUpdates) {
  const std::string path = NewDatabasePath();
  auto store = SqliteRunStore::Create({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  auto counter = SqliteRunStateCounter::Create({.path = path});
  ASSERT_TRUE(counter.ok()) << counter.status();
  EXPECT_TRUE((*counter)->CountRunsByState()->empty());

  Create(**store, "a", v1::RUN_STATE_PENDING);
  Create(**store, "b", v1::RUN_STATE_PENDING);
  Create(**store, "c", v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(
      *(*counter)->CountRunsByState(),
      (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 2}, {v1::RUN_STATE_ANNOTATING, 1}}));

  auto run = (*store)->GetRun({"tenant", "dataset", "a"});
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*store)
                  ->UpdateRun(run->uid(),
                              [](v1::AnnotationRun& r) {
                                r.set_state(v1::RUN_STATE_FAILED);
                                return absl::OkStatus();
                              })
                  .ok());
  ASSERT_TRUE((*store)->DeleteRun({"tenant", "dataset", "c"}).ok());
  EXPECT_EQ(
      *(*counter)->CountRunsByState(),
      (std::map<v1::RunState, int64_t>{{v1::RUN_STATE_PENDING, 1}, {v1::RUN_STATE_FAILED, 1}}));
}

}  // namespace
}  // namespace labelport::store
