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
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

using ::labelport::store::testing::RunStoreConformanceTest;
using ::labelport::store::testing::RunStoreFactory;
using ::labelport::store::testing::RunStoreFactoryName;

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

// Another store on the data of `store`, as another process would open it.
absl::StatusOr<std::unique_ptr<RunStore>> Share(const RunStore& store) {
  auto it = StoreLocations().find(&store);
  if (it == StoreLocations().end()) {
    return absl::InternalError("share: the store was not made by this test's factory");
  }
  const auto [open, location] = it->second;
  return Remembered(open, location);
}

absl::StatusOr<std::unique_ptr<RunStore>> OpenSqlite(const std::string& path) {
  return SqliteRunStore::Create({.path = path});
}

absl::StatusOr<std::unique_ptr<RunStore>> OpenPostgres(const std::string& url) {
  return PostgresRunStore::Create({.url = url});
}

absl::StatusOr<std::unique_ptr<RunStore>> MakeSqliteFileStore() {
  return Remembered(&OpenSqlite, testing::NewSqlitePath());
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
                      RunStoreFactory{"SqliteFile", &MakeSqliteFileStore, &Reopen, &Share},
                      RunStoreFactory{"Postgres", &MakePostgresStore, &Reopen, &Share}),
    RunStoreFactoryName);

}  // namespace
}  // namespace labelport::store
