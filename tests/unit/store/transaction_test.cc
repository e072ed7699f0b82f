// InTransaction, the one transaction protocol of both store kinds, against
// a recording pool: begin, body, commit; rollback on a failed body; one
// retry on a fresh connection when the pool says BEGIN found a stale one.
#include "service/store/transaction.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::store {
namespace {

using ::testing::ElementsAre;

// Records what InTransaction asks of it; fails where told to.
class RecordingPool {
 public:
  struct Lease {
    int connection() const { return id; }
    int id;
  };

  absl::StatusOr<Lease> Acquire(absl::string_view operation) {
    log.push_back(absl::StrCat("acquire ", operation));
    if (!acquire_error.ok()) return acquire_error;
    return Lease{++connections};
  }
  absl::Status Begin(Lease& lease, TransactionMode mode, absl::string_view) {
    log.push_back(absl::StrCat("begin ", mode == TransactionMode::kWrite ? "write" : "read", " on ",
                               lease.id));
    if (failing_begins > 0) {
      --failing_begins;
      return absl::UnavailableError("connection closed");
    }
    return absl::OkStatus();
  }
  bool RetryAfterFailedBegin(Lease& lease, const absl::Status&) {
    log.push_back(absl::StrCat("drop ", lease.id));
    return retry_stale;
  }
  void Rollback(Lease& lease, absl::string_view) {
    log.push_back(absl::StrCat("rollback on ", lease.id));
  }
  absl::Status Commit(Lease& lease, absl::string_view) {
    log.push_back(absl::StrCat("commit on ", lease.id));
    return commit_error;
  }

  std::vector<std::string> log;
  absl::Status acquire_error;
  absl::Status commit_error;
  int failing_begins = 0;
  bool retry_stale = true;
  int connections = 0;
};

TEST(InTransactionTest, CommitsWhatTheBodyDidAndReturnsItsValue) {
  RecordingPool pool;
  absl::StatusOr<int> result = InTransaction(
      pool, TransactionMode::kWrite, "Op", [&](int connection) -> absl::StatusOr<int> {
        pool.log.push_back(absl::StrCat("body on ", connection));
        return 42;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 42);
  EXPECT_THAT(pool.log, ElementsAre("acquire Op", "begin write on 1", "body on 1", "commit on 1"));
}

TEST(InTransactionTest, RollsBackAFailedBodyAndReturnsItsError) {
  RecordingPool pool;
  absl::Status status = InTransaction(pool, TransactionMode::kRead, "Op",
                                      [](int) { return absl::NotFoundError("no such run"); });
  EXPECT_EQ(status, absl::NotFoundError("no such run"));
  EXPECT_THAT(pool.log, ElementsAre("acquire Op", "begin read on 1", "rollback on 1"));
}

TEST(InTransactionTest, AFailedCommitIsTheResult) {
  RecordingPool pool;
  pool.commit_error = absl::UnavailableError("disk full");
  absl::StatusOr<int> result = InTransaction(pool, TransactionMode::kWrite, "Op",
                                             [](int) -> absl::StatusOr<int> { return 1; });
  EXPECT_EQ(result.status(), absl::UnavailableError("disk full"));
}

TEST(InTransactionTest, RetriesOnceOnAFreshConnectionWhenBeginFindsAStaleOne) {
  RecordingPool pool;
  pool.failing_begins = 1;
  int bodies = 0;
  absl::Status status = InTransaction(pool, TransactionMode::kWrite, "Op", [&](int) {
    ++bodies;
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(bodies, 1);
  EXPECT_THAT(pool.log, ElementsAre("acquire Op", "begin write on 1", "drop 1", "acquire Op",
                                    "begin write on 2", "commit on 2"));

  // Never more than once: a second failed BEGIN is the result.
  RecordingPool dead;
  dead.failing_begins = 2;
  EXPECT_EQ(InTransaction(dead, TransactionMode::kWrite, "Op",
                          [&](int) {
                            ++bodies;
                            return absl::OkStatus();
                          })
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(bodies, 1);
  EXPECT_THAT(dead.log, ElementsAre("acquire Op", "begin write on 1", "drop 1", "acquire Op",
                                    "begin write on 2", "drop 2"));
}

TEST(InTransactionTest, NoRetryWhenThePoolSaysNo) {
  RecordingPool pool;
  pool.failing_begins = 1;
  pool.retry_stale = false;
  EXPECT_EQ(InTransaction(pool, TransactionMode::kWrite, "Op", [](int) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_THAT(pool.log, ElementsAre("acquire Op", "begin write on 1", "drop 1"));
}

TEST(InTransactionTest, AnAcquireErrorIsTheResult) {
  RecordingPool pool;
  pool.acquire_error = absl::UnavailableError("Op: cannot connect");
  EXPECT_EQ(InTransaction(pool, TransactionMode::kRead, "Op", [](int) { return absl::OkStatus(); }),
            absl::UnavailableError("Op: cannot connect"));
  EXPECT_THAT(pool.log, ElementsAre("acquire Op"));
}

}  // namespace
}  // namespace labelport::store
