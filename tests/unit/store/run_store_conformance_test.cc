// The RunStore conformance suite, run against every implementation: SQLite
// in memory, SQLite on a file (with restarts) and PostgreSQL (a private
// schema per test on the cluster that `make test` starts; the PostgreSQL
// cases fail with instructions when LABELPORT_TEST_POSTGRES_URL is unset).
#include "tests/unit/store/run_store_conformance.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/postgres_run_store.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/store/postgres_test_database.h"

namespace labelport::store {
namespace {

using ::labelport::store::testing::RunStoreConformanceTest;
using ::labelport::store::testing::RunStoreFactory;
using ::labelport::store::testing::RunStoreFactoryName;

// A directory private to this process, removed at exit.
const std::filesystem::path& TestDir() {
  static const std::filesystem::path* dir = [] {
    auto* path = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                           absl::StrCat("run_store_conformance_test_", getpid()));
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
const auto* const kRemoveTestDir = ::testing::AddGlobalTestEnvironment(new RemoveTestDir);
const auto* const kDropTestSchemas =
    ::testing::AddGlobalTestEnvironment(new testing::DropTestSchemas);

// Where each durable store the suite made keeps its data (a file path or a
// database URL), so that it can be reopened. Tests run one at a time; a
// store is forgotten when reopened.
using Opener = absl::StatusOr<std::unique_ptr<RunStore>> (*)(const std::string& location);
std::map<const RunStore*, std::pair<Opener, std::string>>& StoreLocations() {
  static auto* locations = new std::map<const RunStore*, std::pair<Opener, std::string>>;
  return *locations;
}

absl::StatusOr<std::unique_ptr<RunStore>> Remembered(Opener open, const std::string& location) {
  absl::StatusOr<std::unique_ptr<RunStore>> store = open(location);
  if (store.ok()) StoreLocations()[store->get()] = {open, location};
  return store;
}

absl::StatusOr<std::unique_ptr<RunStore>> Reopen(std::unique_ptr<RunStore> store) {
  auto it = StoreLocations().find(store.get());
  if (it == StoreLocations().end()) {
    return absl::InternalError("reopen: the store was not made by this test's factory");
  }
  auto [open, location] = std::move(it->second);
  StoreLocations().erase(it);
  store.reset();
  return Remembered(open, location);
}

absl::StatusOr<std::unique_ptr<RunStore>> OpenSqlite(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteRunStore>> store = SqliteRunStore::Create({.path = path});
  if (!store.ok()) return store.status();
  return std::unique_ptr<RunStore>(*std::move(store));
}

absl::StatusOr<std::unique_ptr<RunStore>> OpenPostgres(const std::string& url) {
  absl::StatusOr<std::unique_ptr<PostgresRunStore>> store = PostgresRunStore::Create({.url = url});
  if (!store.ok()) return store.status();
  return std::unique_ptr<RunStore>(*std::move(store));
}

absl::StatusOr<std::unique_ptr<RunStore>> MakeSqliteFileStore() {
  static std::atomic<int> counter{0};
  return Remembered(&OpenSqlite, (TestDir() / absl::StrCat("store-", counter++, ".db")).string());
}

absl::StatusOr<std::unique_ptr<RunStore>> MakePostgresStore() {
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  if (!url.ok()) return url.status();
  return Remembered(&OpenPostgres, *url);
}

INSTANTIATE_TEST_SUITE_P(
    AllStores, RunStoreConformanceTest,
    ::testing::Values(RunStoreFactory{"SqliteInMemory", [] { return OpenSqlite(":memory:"); },
                                      nullptr},
                      RunStoreFactory{"SqliteFile", &MakeSqliteFileStore, &Reopen},
                      RunStoreFactory{"Postgres", &MakePostgresStore, &Reopen}),
    RunStoreFactoryName);

}  // namespace
}  // namespace labelport::store
