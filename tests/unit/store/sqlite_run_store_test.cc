#include "service/store/sqlite_run_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_migrations.h"
#include "tests/unit/store/test_databases.h"

namespace labelport::store {
namespace {

using ::labelport::store::testing::NewSqlitePath;
using ::testing::HasSubstr;

SqliteRunStore::Options At(std::string path) {
  SqliteRunStore::Options options;
  options.path = std::move(path);
  return options;
}

// Raw access to a database file, to look behind the store's back.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDatabase() { sqlite3_close(db_); }

  sqlite3* get() { return db_; }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "") << " in " << sql;
    sqlite3_free(error);
  }

  // The rows of `sql`, each as its columns joined with '|'.
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i > 0) row += "|";
        const unsigned char* text = sqlite3_column_text(stmt, i);
        if (text != nullptr) {
          row.append(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, i));
        }
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

NewRun SampleRun(const std::string& anno_key) {
  NewRun run;
  run.key = {"tenant", "dataset", anno_key};
  run.request_id = "req-" + anno_key;
  run.record.set_backend("darwin");
  run.record.set_state(labelport::v1::RUN_STATE_UPLOADING);
  for (const char* id : {"b", "a", "c"}) {
    labelport::v1::Sample sample;
    sample.set_id(id);
    sample.mutable_media()->set_url(absl::StrCat("https://example.com/", id));
    sample.set_media_type(labelport::v1::MEDIA_TYPE_VIDEO);
    sample.set_frame_count(42);
    run.samples.push_back(std::move(sample));
  }
  return run;
}

TEST(SqliteRunStoreTest, DataSurvivesARestart) {
  const std::string path = NewSqlitePath();
  NewRun run = SampleRun("durable");
  std::string run_id;
  labelport::v1::AnnotationRun before;
  {
    auto store = SqliteRunStore::Create(At(path));
    ASSERT_TRUE(store.ok()) << store.status();
    auto created = (*store)->CreateRun(run);
    ASSERT_TRUE(created.ok()) << created.status();
    run_id = created->run_id;
    before = created->run;
  }
  auto store = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(store.ok()) << store.status();
  auto got = (*store)->GetRun(run.key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), before.SerializeAsString());
  auto samples = (*store)->ListRunSamples(run.key, 0, 10);
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_THAT(samples->sample_ids, ::testing::ElementsAre("b", "a", "c"));
  auto replay = (*store)->CreateRun(run);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_FALSE(replay->created);
  EXPECT_EQ(replay->run_id, run_id);
}

TEST(SqliteRunStoreTest, StoresWholeSamplesInOrder) {
  const std::string path = NewSqlitePath();
  NewRun run = SampleRun("blobs");
  {
    auto store = SqliteRunStore::Create(At(path));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CreateRun(run).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT position, sample FROM run_samples "
                               "ORDER BY position",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  size_t count = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ASSERT_LT(count, run.samples.size());
    EXPECT_EQ(sqlite3_column_int64(stmt, 0), static_cast<int64_t>(count));
    labelport::v1::Sample sample;
    ASSERT_TRUE(sample.ParseFromArray(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1)));
    EXPECT_EQ(sample.SerializeAsString(), run.samples[count].SerializeAsString());
    ++count;
  }
  EXPECT_EQ(count, run.samples.size());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteRunStoreTest, MigrationsAreAppliedOnceAndRecorded) {
  const std::string path = NewSqlitePath();
  for (int open = 0; open < 3; ++open) {
    auto store = SqliteRunStore::Create(At(path));
    ASSERT_TRUE(store.ok()) << store.status();
  }
  std::vector<std::string> expected;
  for (const SqliteMigration& migration : SqliteMigrations()) {
    expected.push_back(absl::StrCat(migration.version, "|", migration.name));
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.Query("SELECT version, name FROM schema_migrations "
                      "ORDER BY version"),
            expected);
  EXPECT_THAT(raw.Query("SELECT applied_at FROM schema_migrations"),
              ::testing::Each(::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z")));
  EXPECT_EQ(raw.Query("SELECT name FROM sqlite_master WHERE type = 'table' "
                      "ORDER BY name"),
            (std::vector<std::string>{"annotation_links", "backend_state", "replicas",
                                      "request_ids", "run_samples", "runs", "sample_progress",
                                      "schema_migrations", "spooled_label_ids", "staged_samples"}));
}

TEST(SqliteRunStoreTest, MigrationsAreOrderedFromOne) {
  int previous = 0;
  for (const SqliteMigration& migration : SqliteMigrations()) {
    EXPECT_GT(migration.version, previous) << migration.name;
    EXPECT_FALSE(migration.name.empty());
    previous = migration.version;
  }
  EXPECT_EQ(SqliteMigrations().front().version, 1);
  EXPECT_EQ(LatestSqliteSchemaVersion(), previous);
}

TEST(SqliteRunStoreTest, RefusesADatabaseFromANewerVersion) {
  const std::string path = NewSqlitePath();
  ASSERT_TRUE(SqliteRunStore::Create(At(path)).ok());
  const int newer = LatestSqliteSchemaVersion() + 1;
  RawDatabase(path).Exec(absl::StrCat("INSERT INTO schema_migrations VALUES (", newer,
                                      ", 'from_the_future', '2030-01-01T00:00:00Z')"));
  auto store = SqliteRunStore::Create(At(path));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr(absl::StrCat("version ", newer)));
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

TEST(SqliteRunStoreTest, UsesWriteAheadLogging) {
  const std::string path = NewSqlitePath();
  auto store = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateRun(SampleRun("wal")).ok());
  EXPECT_EQ(RawDatabase(path).Query("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteRunStoreTest, TwoStoresOnOneFileSeeEachOther) {
  const std::string path = NewSqlitePath();
  auto first = SqliteRunStore::Create(At(path));
  auto second = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*first)->CreateRun(SampleRun("shared")).ok());
  EXPECT_TRUE((*second)->GetRun(SampleRun("shared").key).ok());
  auto clash = (*second)->CreateRun([] {
    NewRun run = SampleRun("shared");
    run.request_id = "another";
    return run;
  }());
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(SqliteRunStoreTest, ConcurrentOpensOfANewFileMigrateOnce) {
  const std::string path = NewSqlitePath();
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&path] {
      auto store = SqliteRunStore::Create(At(path));
      EXPECT_TRUE(store.ok()) << store.status();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(RawDatabase(path).Query("SELECT COUNT(*) FROM schema_migrations"),
            std::vector<std::string>{absl::StrCat(SqliteMigrations().size())});
}

TEST(SqliteRunStoreTest, RejectsDuplicateSampleIds) {
  auto store = SqliteRunStore::Create(At(":memory:"));
  ASSERT_TRUE(store.ok()) << store.status();
  NewRun run = SampleRun("dupes");
  run.samples.push_back(run.samples.front());
  auto created = (*store)->CreateRun(run);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("CreateRun"));
  // Nothing of the failed run was kept.
  EXPECT_EQ((*store)->GetRun(run.key).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*store)->CreateRun(SampleRun("dupes")).ok());
}

TEST(SqliteRunStoreTest, CreateRejectsBadOptions) {
  EXPECT_EQ(SqliteRunStore::Create(At("")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteRunStore::Create([] {
              SqliteRunStore::Options options = At(":memory:");
              options.busy_timeout = absl::Seconds(-1);
              return options;
            }())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto missing_dir = SqliteRunStore::Create(At("/nonexistent-dir/labelport/runs.db"));
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(missing_dir.status().message(), HasSubstr("/nonexistent-dir/labelport/runs.db"));
}

TEST(SqliteRunStoreTest, RefusesAFileThatIsNotADatabase) {
  const std::string path = NewSqlitePath();
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not an SQLite database, just some text to fill a page", file);
    std::fclose(file);
  }
  auto store = SqliteRunStore::Create(At(path));
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
}

// A database written by a build that knew only migration 1 is brought to the
// latest version on open, with its runs intact.
TEST(SqliteRunStoreTest, MigratesAVersion1DatabaseKeepingItsRuns) {
  const std::string path = NewSqlitePath();
  labelport::v1::AnnotationRun record;
  record.set_backend("darwin");
  record.set_state(labelport::v1::RUN_STATE_UPLOADING);
  record.mutable_darwin()->set_dataset_slug("slug-v1");
  record.set_request_id("req-v1");
  labelport::v1::Sample sample;
  sample.set_id("s1");
  sample.mutable_media()->set_path("/data/s1.jpg");
  {
    RawDatabase raw(path);
    ASSERT_TRUE(ApplySqliteMigrations(raw.get(), SqliteMigrations().first(1)).ok());
    ASSERT_EQ(SqliteSchemaVersion(raw.get()).value_or(-1), 1);
    raw.Exec(
        absl::StrCat("INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, "
                     "dataset_slug, request_id, record, create_time_ns, update_time_ns) "
                     "VALUES ('run-v1', 'tenant', 'dataset', 'old', 'darwin', 2, "
                     "'slug-v1', 'req-v1', X'",
                     absl::BytesToHexString(record.SerializeAsString()),
                     "', 1700000000000000000, 1700000001000000000)"));
    raw.Exec(
        "INSERT INTO request_ids (tenant, request_id, run_id) "
        "VALUES ('tenant', 'req-v1', 'run-v1')");
    raw.Exec(
        absl::StrCat("INSERT INTO run_samples (run_id, position, sample_id, sample) "
                     "VALUES ('run-v1', 0, 's1', X'",
                     absl::BytesToHexString(sample.SerializeAsString()), "')"));
  }

  auto store = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(store.ok()) << store.status();
  const RunKey key{"tenant", "dataset", "old"};
  auto got = (*store)->GetRun(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->uid(), "run-v1");
  EXPECT_EQ(got->revision(), 1);
  EXPECT_EQ(got->name(), "datasets/dataset/runs/old");
  EXPECT_EQ(got->state(), labelport::v1::RUN_STATE_UPLOADING);
  EXPECT_EQ(got->darwin().dataset_slug(), "slug-v1");
  EXPECT_EQ(got->create_time().seconds(), 1700000000);
  EXPECT_EQ(got->update_time().seconds(), 1700000001);
  auto samples = (*store)->LoadSamples("run-v1", 0, 10);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 1u);
  EXPECT_EQ((*samples)[0].SerializeAsString(), sample.SerializeAsString());
  NewRun replay;
  replay.key = key;
  replay.request_id = "req-v1";
  auto replayed = (*store)->CreateRun(replay);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_FALSE(replayed->created);
  EXPECT_EQ(replayed->run_id, "run-v1");

  // The job API works on the migrated run.
  auto claimable = (*store)->ListClaimableRuns(10, "");
  ASSERT_TRUE(claimable.ok()) << claimable.status();
  ASSERT_EQ(claimable->size(), 1u);
  EXPECT_EQ((*claimable)[0].run_id, "run-v1");
  auto leased = (*store)->AcquireLease("run-v1", "w", absl::Minutes(1));
  ASSERT_TRUE(leased.ok()) << leased.status();
  EXPECT_TRUE(*leased);
  labelport::internal::v1::SampleProgress progress;
  progress.set_position(0);
  progress.set_step(labelport::internal::v1::SAMPLE_STEP_REGISTERED);
  EXPECT_TRUE((*store)->SaveSampleProgress("run-v1", {progress}).ok());
  auto updated =
      (*store)->UpdateRun("run-v1", [](labelport::v1::AnnotationRun&) { return absl::OkStatus(); });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->revision(), 2);

  RawDatabase raw(path);
  std::vector<std::string> versions;
  for (const SqliteMigration& migration : SqliteMigrations())
    versions.push_back(absl::StrCat(migration.version));
  EXPECT_EQ(raw.Query("SELECT version FROM schema_migrations ORDER BY version"), versions);
}

TEST(SqliteRunStoreTest, DeleteRunLeavesNoRowsBehind) {
  const std::string path = NewSqlitePath();
  {
    auto store = SqliteRunStore::Create(At(path));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(testing::CreateAndDeleteAFullRun(**store, SampleRun("gone")));
  }
  RawDatabase raw(path);
  for (const char* table : {"runs", "request_ids", "run_samples", "sample_progress",
                            "annotation_links", "backend_state", "staged_samples"}) {
    EXPECT_EQ(raw.Query(absl::StrCat("SELECT COUNT(*) FROM ", table)),
              std::vector<std::string>{"0"})
        << table;
  }
}

// A database written before the backend state was opaque (version 6) kept
// the V7 state of its runs in darwin_state: after the upgrade it reads back
// as that DarwinRunState, typed as one.
TEST(SqliteRunStoreTest, MigratesTheDarwinStateOfAVersion6Database) {
  const std::string path = NewSqlitePath();
  labelport::internal::v1::DarwinRunState darwin;
  darwin.set_team_slug("team");
  darwin.set_dataset_id(42);
  (*darwin.mutable_class_ids())["cat|polygon"] = 7;
  {
    RawDatabase raw(path);
    ASSERT_TRUE(ApplySqliteMigrations(raw.get(), SqliteMigrations().first(6)).ok());
    ASSERT_EQ(SqliteSchemaVersion(raw.get()).value_or(-1), 6);
    raw.Exec(
        "INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, dataset_slug, "
        "request_id, record, create_time_ns, update_time_ns) VALUES ('run-v6', 'tenant', "
        "'dataset', 'old', 'darwin', 2, 'slug', '', X'', 1700000000000000000, "
        "1700000001000000000)");
    raw.Exec(absl::StrCat("INSERT INTO darwin_state (run_id, record) VALUES ('run-v6', X'",
                          absl::BytesToHexString(darwin.SerializeAsString()), "')"));
  }
  auto store = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(store.ok()) << store.status();
  auto state = (*store)->LoadBackendState("run-v6");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->type_url(), "type.googleapis.com/labelport.internal.v1.DarwinRunState");
  labelport::internal::v1::DarwinRunState got;
  ASSERT_TRUE(state->UnpackTo(&got));
  EXPECT_EQ(got.SerializeAsString(), darwin.SerializeAsString());
}

// The read connections: GetRun, GetRunByUid and ListRuns do not wait for the
// write connection, which a long UpdateRun holds (its mutator runs under the
// store's lock), and answer with the last committed record.
TEST(SqliteRunStoreTest, ReadsDoNotWaitForAWriteInProgress) {
  auto store = SqliteRunStore::Create(At(NewSqlitePath()));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->ReadsAreLocal());
  NewRun run = SampleRun("busy");
  auto created = (*store)->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  absl::Notification mutating, release;
  std::thread writer([&] {
    auto updated = (*store)->UpdateRun(created->run_id, [&](labelport::v1::AnnotationRun& r) {
      r.set_state(labelport::v1::RUN_STATE_ANNOTATING);
      mutating.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
    EXPECT_TRUE(updated.ok()) << updated.status();
  });
  mutating.WaitForNotification();
  // Would block until `release` with one connection for everything.
  auto by_key = (*store)->GetRun(run.key);
  auto by_uid = (*store)->GetRunByUid(created->run_id);
  ListRunsQuery query;
  query.tenant = "tenant";
  query.dataset = "dataset";
  auto page = (*store)->ListRuns(query);
  release.Notify();
  writer.join();
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  ASSERT_TRUE(by_uid.ok()) << by_uid.status();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(by_key->revision(), 1);
  EXPECT_EQ(by_uid->state(), labelport::v1::RUN_STATE_UPLOADING);
  ASSERT_EQ(page->runs.size(), 1u);
  EXPECT_EQ(page->runs[0].revision(), 1);
  // Once committed, every read sees the change.
  auto after = (*store)->GetRun(run.key);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->revision(), 2);
  EXPECT_EQ(after->state(), labelport::v1::RUN_STATE_ANNOTATING);
}

// Records are decoded once per revision and kept: every read still returns
// the record as stored now, whichever store (process) changed it.
TEST(SqliteRunStoreTest, ReadsFollowEveryChangeWhoeverMadeIt) {
  const std::string path = NewSqlitePath();
  auto reader = SqliteRunStore::Create(At(path));
  auto writer = SqliteRunStore::Create(At(path));
  ASSERT_TRUE(reader.ok() && writer.ok());
  NewRun run = SampleRun("changing");
  auto created = (*writer)->CreateRun(run);
  ASSERT_TRUE(created.ok()) << created.status();
  ListRunsQuery query;
  query.tenant = "tenant";
  query.dataset = "dataset";
  for (int i = 1; i <= 3; ++i) {
    auto updated = (*writer)->UpdateRun(created->run_id, [i](labelport::v1::AnnotationRun& r) {
      r.mutable_progress()->set_samples_completed(i);
      return absl::OkStatus();
    });
    ASSERT_TRUE(updated.ok()) << updated.status();
    for (int read = 0; read < 2; ++read) {  // the second read comes from the cache
      auto by_key = (*reader)->GetRun(run.key);
      auto by_uid = (*reader)->GetRunByUid(created->run_id);
      auto page = (*reader)->ListRuns(query);
      ASSERT_TRUE(by_key.ok() && by_uid.ok() && page.ok());
      EXPECT_EQ(by_key->SerializeAsString(), updated->SerializeAsString());
      EXPECT_EQ(by_uid->SerializeAsString(), updated->SerializeAsString());
      ASSERT_EQ(page->runs.size(), 1u);
      EXPECT_EQ(page->runs[0].SerializeAsString(), updated->SerializeAsString());
    }
  }
  auto renamed = (*writer)->RenameRun(run.key, "renamed");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  auto by_uid = (*reader)->GetRunByUid(created->run_id);
  ASSERT_TRUE(by_uid.ok()) << by_uid.status();
  EXPECT_EQ(by_uid->name(), "datasets/dataset/runs/renamed");
  EXPECT_EQ(by_uid->SerializeAsString(), renamed->SerializeAsString());
  EXPECT_EQ((*reader)->GetRun(run.key).status().code(), absl::StatusCode::kNotFound);
}

TEST(SqliteRunStoreTest, AnInMemoryStoreHasNoReadConnections) {
  auto store = SqliteRunStore::Create(At(":memory:"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_FALSE((*store)->ReadsAreLocal());
  SqliteRunStore::Options options = At(NewSqlitePath());
  options.read_connections = 0;
  auto single = SqliteRunStore::Create(options);
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_FALSE((*single)->ReadsAreLocal());
}

}  // namespace
}  // namespace labelport::store
