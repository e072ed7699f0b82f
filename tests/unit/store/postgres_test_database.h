// Test support: a private PostgreSQL schema per test, on the throwaway
// cluster that `make test` starts (tests/support/postgres_cluster).
//
// The cluster's URL comes from LABELPORT_TEST_POSTGRES_URL. Without it the
// helpers return FAILED_PRECONDITION with instructions, so that tests that
// need PostgreSQL fail (never skip) when it is missing. The schemas a program
// creates are dropped when it ends (kDropTestSchemas).
#ifndef LABELPORT_TESTS_UNIT_STORE_POSTGRES_TEST_DATABASE_H_
#define LABELPORT_TESTS_UNIT_STORE_POSTGRES_TEST_DATABASE_H_

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "service/store/postgres_connection.h"

namespace labelport::store::testing {

inline constexpr char kPostgresUrlVariable[] = "LABELPORT_TEST_POSTGRES_URL";

// The cluster's URL, or FAILED_PRECONDITION saying how to start one.
inline absl::StatusOr<std::string> TestPostgresUrl() {
  const char* url = std::getenv(kPostgresUrlVariable);
  if (url == nullptr || *url == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        kPostgresUrlVariable,
        " is not set, so the PostgreSQL tests have no database. `make test` starts a throwaway "
        "cluster itself; to run these tests by hand, start one with\n"
        "  eval \"$(tests/support/postgres_cluster start)\"\n"
        "run the tests, then stop it with\n"
        "  tests/support/postgres_cluster stop \"$LABELPORT_TEST_POSTGRES_DIR\""));
  }
  return std::string(url);
}

// `url` with the connection parameter `options=-csearch_path=<schema>`.
inline std::string WithSearchPath(const std::string& url, const std::string& schema) {
  return absl::StrCat(url, url.find('?') == std::string::npos ? "?" : "&",
                      "options=-csearch_path%3D", schema);
}

// Schemas made by NewTestSchema, dropped when the test program ends if the
// program registers a DropTestSchemas environment.
inline std::vector<std::string>& TestSchemas() {
  static auto* schemas = new std::vector<std::string>;
  return *schemas;
}

class DropTestSchemas : public ::testing::Environment {
 public:
  void TearDown() override {
    absl::StatusOr<std::string> url = TestPostgresUrl();
    if (!url.ok() || TestSchemas().empty()) return;
    auto connection = PostgresConnection::Connect(*url);
    if (!connection.ok()) return;
    for (const std::string& schema : TestSchemas()) {
      (void)(*connection)
          ->ExecScript(absl::StrCat("DROP SCHEMA IF EXISTS ", schema, " CASCADE"), "drop schema");
    }
  }
};
// Every program using this drops its schemas when it ends.
inline const auto* const kDropTestSchemas =
    ::testing::AddGlobalTestEnvironment(new DropTestSchemas);

// Creates an empty schema with a name unique to this process and returns
// the cluster URL that selects it.
inline absl::StatusOr<std::string> NewTestSchema() {
  static std::atomic<int> counter{0};
  absl::StatusOr<std::string> url = TestPostgresUrl();
  if (!url.ok()) return url.status();
  static absl::Mutex mu;
  static absl::BitGen* bitgen = new absl::BitGen;
  uint32_t salt;
  {
    absl::MutexLock lock(&mu);
    salt = absl::Uniform<uint32_t>(*bitgen);
  }
  const std::string schema = absl::StrFormat("lp_test_%d_%d_%08x", getpid(), counter++, salt);
  auto connection = PostgresConnection::Connect(*url);
  if (!connection.ok()) return connection.status();
  absl::Status created =
      (*connection)->ExecScript(absl::StrCat("CREATE SCHEMA ", schema), "create test schema");
  if (!created.ok()) return created;
  {
    absl::MutexLock lock(&mu);
    TestSchemas().push_back(schema);
  }
  return WithSearchPath(*url, schema);
}

}  // namespace labelport::store::testing

#endif  // LABELPORT_TESTS_UNIT_STORE_POSTGRES_TEST_DATABASE_H_
