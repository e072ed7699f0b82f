// Test support: fresh databases of each kind, for the tests that run one
// contract against SQLite and PostgreSQL (parameter "Sqlite" or "Postgres").
//
// A SQLite database is a new file in a directory private to the test
// program (removed when it ends); a PostgreSQL database is a new schema on the test cluster (see
// postgres_test_database.h: FAILED_PRECONDITION with instructions when the
// cluster's URL is not set); the schemas are dropped when the program ends.
#ifndef LABELPORT_TESTS_UNIT_STORE_TEST_DATABASES_H_
#define LABELPORT_TESTS_UNIT_STORE_TEST_DATABASES_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/database.h"
#include "service/store/run_store.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store::testing {

// The kinds, as test parameters.
inline auto DatabaseKinds() { return ::testing::Values("Sqlite", "Postgres"); }

// A directory private to this process, removed when the test program ends.
inline const std::filesystem::path& TestDir() {
  static const std::filesystem::path* dir = [] {
    auto* path = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                           absl::StrCat("store_test_", getpid()));
    std::filesystem::create_directories(*path);
    return path;
  }();
  return *dir;
}

class RemoveTestDir : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(TestDir(), ignored);
  }
};
inline const auto* const kRemoveTestDir = ::testing::AddGlobalTestEnvironment(new RemoveTestDir);

// A new SQLite file path in TestDir().
inline std::string NewSqlitePath() {
  static std::atomic<int> counter{0};
  return (TestDir() / absl::StrCat("db-", counter++, ".db")).string();
}

// Where a fresh, empty database of `kind` ("Sqlite" or "Postgres") is.
inline absl::StatusOr<DatabaseLocation> NewDatabaseLocation(const std::string& kind) {
  if (kind == "Sqlite") return DatabaseLocation{.sqlite_path = NewSqlitePath()};
  absl::StatusOr<std::string> url = NewTestSchema();
  if (!url.ok()) return url.status();
  return DatabaseLocation{.postgres_url = *url};
}

// Stores `run` (with at least one sample) and a row in every table of its
// job (progress, a link, a backend state, a stage), then deletes it: for the
// kinds' tests that check behind the store's back that nothing is left.
inline void CreateAndDeleteAFullRun(RunStore& store, const NewRun& run) {
  absl::StatusOr<CreateRunResult> created = store.CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  labelport::internal::v1::SampleProgress progress;
  progress.set_position(0);
  ASSERT_TRUE(store.SaveSampleProgress(created->run_id, {progress}).ok());
  labelport::internal::v1::AnnotationLink link;
  link.set_annotation_id("ann");
  ASSERT_TRUE(store.SaveAnnotationLinks(created->run_id, {link}).ok());
  google::protobuf::Any state;
  state.set_type_url("type.googleapis.com/example.State");
  ASSERT_TRUE(store.SaveBackendState(created->run_id, state).ok());
  ASSERT_TRUE(store.StageSamples(created->run_id, "stage", {{0, run.samples[0]}}).ok());
  ASSERT_TRUE(store.DeleteRun(run.key).ok());
}

}  // namespace labelport::store::testing

#endif  // LABELPORT_TESTS_UNIT_STORE_TEST_DATABASES_H_
