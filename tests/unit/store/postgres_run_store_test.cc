// What PostgresRunStore promises beyond the conformance suite (which also
// runs creates and leases across stores, as across processes): migrations
// across concurrent openers, recovery from dropped connections, and errors
// that never contain the URL's password.
#include "service/store/postgres_run_store.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/postgres_connection.h"
#include "service/store/postgres_migrations.h"
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fresh schema's URL; fails the test when the cluster is missing.
std::string NewSchemaUrl() {
  absl::StatusOr<std::string> url = testing::NewTestSchema();
  EXPECT_TRUE(url.ok()) << url.status();
  return url.value_or("");
}

std::string ClusterUrl() {
  absl::StatusOr<std::string> url = testing::TestPostgresUrl();
  EXPECT_TRUE(url.ok()) << url.status();
  return url.value_or("");
}

// The password of the cluster URL (postgresql://user:password@host...).
std::string ClusterPassword() {
  const std::string url = ClusterUrl();
  const size_t colon = url.find(':', url.find("://") + 3);
  const size_t at = url.find('@');
  if (colon == std::string::npos || at == std::string::npos || colon > at) return "";
  return url.substr(colon + 1, at - colon - 1);
}

// Raw access to the database, to look behind the store's back.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& url) {
    auto connection = PostgresConnection::Connect(url);
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (connection.ok()) connection_ = *std::move(connection);
  }

  PostgresConnection& get() { return *connection_; }

  void Exec(const std::string& sql) {
    ASSERT_NE(connection_, nullptr);
    absl::Status status = connection_->ExecScript(sql, "test");
    ASSERT_TRUE(status.ok()) << status;
  }

  // The first column of each row of `sql`, cast to text in `sql` (which
  // joins several columns with '|' itself).
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> out;
    if (connection_ == nullptr) return out;
    auto rows = connection_->Exec(sql, {}, "test");
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return out;
    for (int i = 0; i < rows->rows(); ++i) out.push_back(rows->Bytes(i, 0));
    return out;
  }

 private:
  std::unique_ptr<PostgresConnection> connection_;
};

NewRun SampleRun(const std::string& anno_key, const std::string& request_id = "") {
  NewRun run;
  run.key = {"tenant", "dataset", anno_key};
  run.request_id = request_id;
  run.record.set_backend("darwin");
  run.record.set_state(labelport::v1::RUN_STATE_PENDING);
  for (const char* id : {"b", "a", "c"}) {
    labelport::v1::Sample sample;
    sample.set_id(id);
    run.samples.push_back(sample);
  }
  return run;
}

TEST(PostgresRunStoreTest, MigrationsAreAppliedOnceAndRecorded) {
  const std::string url = NewSchemaUrl();
  for (int open = 0; open < 3; ++open) {
    auto store = PostgresRunStore::Create({.url = url});
    ASSERT_TRUE(store.ok()) << store.status();
  }
  std::vector<std::string> expected;
  for (const PostgresMigration& migration : PostgresMigrations()) {
    expected.push_back(absl::StrCat(migration.version, "|", migration.name));
  }
  EXPECT_EQ(RawDatabase(url).Query("SELECT version::text || '|' || name FROM schema_migrations "
                                   "ORDER BY version"),
            expected);
  EXPECT_EQ(
      RawDatabase(url).Query("SELECT string_agg(table_name::text, ',' ORDER BY table_name) FROM "
                             "information_schema.tables WHERE table_schema = current_schema()"),
      std::vector<std::string>{"annotation_links,backend_state,replicas,request_ids,run_samples,"
                               "runs,sample_progress,schema_migrations,spooled_label_ids,"
                               "staged_samples"});
}

TEST(PostgresRunStoreTest, ConcurrentOpensOfAFreshSchemaMigrateOnce) {
  const std::string url = NewSchemaUrl();
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&url] {
      auto store = PostgresRunStore::Create({.url = url});
      EXPECT_TRUE(store.ok()) << store.status();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(RawDatabase(url).Query("SELECT COUNT(*)::text FROM schema_migrations"),
            std::vector<std::string>{absl::StrCat(PostgresMigrations().size())});
}

TEST(PostgresRunStoreTest, RefusesASchemaFromANewerVersion) {
  const std::string url = NewSchemaUrl();
  ASSERT_TRUE(PostgresRunStore::Create({.url = url}).ok());
  const int newer = LatestPostgresSchemaVersion() + 1;
  RawDatabase(url).Exec(absl::StrCat("INSERT INTO schema_migrations (version, name) VALUES (",
                                     newer, ", 'from_the_future')"));
  auto store = PostgresRunStore::Create({.url = url});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(absl::StrCat("version ", newer)));
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

// Every pooled connection dies (as when the server restarts): the next call
// reconnects instead of failing.
TEST(PostgresRunStoreTest, SurvivesDroppedConnections) {
  const std::string application = absl::StrCat("lp_dropped_", getpid());
  const std::string url = absl::StrCat(NewSchemaUrl(), "&application_name=", application);
  auto store = PostgresRunStore::Create({.url = url, .max_connections = 4});
  ASSERT_TRUE(store.ok()) << store.status();
  // Fill the pool with several idle connections.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { EXPECT_TRUE((*store)->CreateRun(SampleRun(absl::StrCat("run-", i))).ok()); });
  }
  for (std::thread& thread : threads) thread.join();
  RawDatabase admin(ClusterUrl());
  EXPECT_THAT(admin.Query(absl::StrCat("SELECT COUNT(pg_terminate_backend(pid))::text FROM "
                                       "pg_stat_activity WHERE application_name = '",
                                       application, "'")),
              ::testing::ElementsAre(Not("0")));
  auto got = (*store)->GetRun({"tenant", "dataset", "run-0"});
  EXPECT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE((*store)->CreateRun(SampleRun("after")).ok());
}

TEST(PostgresRunStoreTest, RejectsBadOptions) {
  EXPECT_EQ(PostgresRunStore::Create({.url = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PostgresRunStore::Create({.url = "mysql://u:secret-pw@h/db"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(PostgresRunStore::Create({.url = "mysql://u:secret-pw@h/db"}).status().message(),
              Not(HasSubstr("secret-pw")));
  EXPECT_EQ(PostgresRunStore::Create({.url = ClusterUrl(), .max_connections = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The password never shows, whatever fails: a malformed URL, a wrong
// password, a server that is down, a database that does not exist.
TEST(PostgresRunStoreTest, ErrorsNeverContainThePassword) {
  const std::string password = ClusterPassword();
  ASSERT_GE(password.size(), 8u) << "the test cluster's URL should carry a password";
  const std::string cluster = ClusterUrl();
  struct Case {
    std::string name;
    std::string url;
    std::string secret;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"malformed query", absl::StrCat(cluster, "?no_such_parameter=1"), password,
       absl::StatusCode::kInvalidArgument},
      {"malformed percent-encoding", "postgresql://labelport:pw%ZZsecret-42@127.0.0.1:1/db",
       "pw%ZZsecret-42", absl::StatusCode::kInvalidArgument},
      {"wrong password", absl::StrReplaceAll(cluster, {{password, "wrong-secret-1234"}}),
       "wrong-secret-1234", absl::StatusCode::kUnavailable},
      {"server down", "postgresql://labelport:down-secret-5678@127.0.0.1:1/postgres",
       "down-secret-5678", absl::StatusCode::kUnavailable},
      {"password as a parameter",
       "postgresql://labelport@127.0.0.1:1/postgres?password=param-secret-999", "param-secret-999",
       absl::StatusCode::kUnavailable},
      {"unknown database", absl::StrReplaceAll(cluster, {{"/postgres", "/no_such_database_here"}}),
       password, absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto store = PostgresRunStore::Create({.url = c.url});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), c.code) << store.status();
    EXPECT_THAT(store.status().message(), Not(HasSubstr(c.secret)));
    EXPECT_THAT(store.status().ToString(), Not(HasSubstr(c.secret)));
    // The message still says which server it was about.
    EXPECT_THAT(store.status().message(), HasSubstr("****"));
  }
}

TEST(PostgresRunStoreTest, RedactsUrls) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://user:s3cret@db.example:5432/labelport"),
            "postgresql://user:****@db.example:5432/labelport");
  EXPECT_EQ(RedactPostgresUrl("postgresql://user@db/labelport?password=s3cret&sslmode=require"),
            "postgresql://user@db/labelport?password=****&sslmode=require");
  EXPECT_EQ(RedactPostgresUrl("postgresql://user:p%40ss@db/x"), "postgresql://user:****@db/x");
  EXPECT_EQ(RedactPostgresUrl("postgresql://db/x"), "postgresql://db/x");
}

TEST(PostgresRunStoreTest, DeleteRunLeavesNoRowsBehind) {
  const std::string url = NewSchemaUrl();
  auto store = PostgresRunStore::Create({.url = url});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NO_FATAL_FAILURE(testing::CreateAndDeleteAFullRun(**store, SampleRun("gone", "req-gone")));
  RawDatabase raw(url);
  for (const char* table : {"runs", "request_ids", "run_samples", "sample_progress",
                            "annotation_links", "backend_state", "staged_samples"}) {
    EXPECT_EQ(raw.Query(absl::StrCat("SELECT COUNT(*)::text FROM ", table)),
              std::vector<std::string>{"0"})
        << table;
  }
}

// A schema written before the backend state was opaque (version 3) kept the
// V7 state of its runs in darwin_state: after the upgrade it reads back as
// that DarwinRunState, typed as one.
TEST(PostgresRunStoreTest, MigratesTheDarwinStateOfAVersion3Schema) {
  const std::string url = NewSchemaUrl();
  labelport::internal::v1::DarwinRunState darwin;
  darwin.set_team_slug("team");
  darwin.set_dataset_id(42);
  (*darwin.mutable_class_ids())["cat|polygon"] = 7;
  {
    RawDatabase raw(url);
    ASSERT_TRUE(ApplyPostgresMigrations(raw.get(), PostgresMigrations().first(3)).ok());
    ASSERT_EQ(PostgresSchemaVersion(raw.get()).value_or(-1), 3);
    raw.Exec(
        "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, dataset_slug, "
        "request_id, record, create_time_ns, update_time_ns) VALUES ('run-v3', 'tenant', "
        "'dataset', 'old', 'darwin', 2, 'slug', '', ''::bytea, 1700000000000000000, "
        "1700000001000000000)");
    raw.Exec(absl::StrCat("INSERT INTO darwin_state (run_id, record) VALUES ('run-v3', '\\x",
                          absl::BytesToHexString(darwin.SerializeAsString()), "'::bytea)"));
  }
  auto store = PostgresRunStore::Create({.url = url});
  ASSERT_TRUE(store.ok()) << store.status();
  auto state = (*store)->LoadBackendState("run-v3");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->type_url(), "type.googleapis.com/labelport.internal.v1.DarwinRunState");
  labelport::internal::v1::DarwinRunState got;
  ASSERT_TRUE(state->UnpackTo(&got));
  EXPECT_EQ(got.SerializeAsString(), darwin.SerializeAsString());
  // The type is no longer defaulted: every new state names its own.
  EXPECT_EQ(RawDatabase(url).Query("SELECT COUNT(*)::text FROM information_schema.columns WHERE "
                                   "table_schema = current_schema() AND table_name = "
                                   "'backend_state' AND column_default IS NOT NULL"),
            std::vector<std::string>{"0"});
}

// Sample ids and keys are arbitrary text: COPY escaping must keep them.
TEST(PostgresRunStoreTest, KeepsAwkwardTextIntact) {
  auto store = PostgresRunStore::Create({.url = NewSchemaUrl()});
  ASSERT_TRUE(store.ok()) << store.status();
  NewRun run = SampleRun("key with 'quotes' and \\ back\tslash");
  run.samples[0].set_id("tab\there");
  run.samples[1].set_id("new\nline \\N back\\slash");
  run.samples[2].set_id("ünïcødé ✓");
  auto created = (*store)->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  auto ids = (*store)->ListRunSamples(run.key, 0, 10);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(ids->sample_ids, ::testing::ElementsAre(run.samples[0].id(), run.samples[1].id(),
                                                      run.samples[2].id()));
  auto samples = (*store)->LoadSamples(created->run_id, 0, 10);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*samples)[i].SerializeAsString(), run.samples[i].SerializeAsString());
  }
  // Text PostgreSQL cannot store is a clear INVALID_ARGUMENT, not INTERNAL.
  NewRun bad = SampleRun(std::string("nul\0byte", 8));
  EXPECT_EQ((*store)->CreateRun(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labelport::store
