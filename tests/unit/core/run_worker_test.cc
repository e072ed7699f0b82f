// RunWorker's lease fencing: a worker whose lease was taken over stops the
// job at its next journal write and leaves the run to the new owner; a
// worker that cannot renew its lease (the store fails) stops writing before
// the lease can expire, leaves the run UPLOADING, and takes it up again once
// the store answers. A V7 call in flight when the fence closes by time is
// abandoned at the fence's deadline, not when it ends.
#include "service/core/run_worker.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/store/sqlite_run_store.h"
#include "tests/unit/common/wait_until.h"
#include "tests/unit/core/fake_backends.h"
#include "tests/unit/core/forwarding_run_store.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;
using ::labelport::core::testing::AnyTenantProvider;
using ::labelport::core::testing::InMemoryStore;
using ::labelport::core::testing::NewRunOf;
using ::labelport::core::testing::TestCapabilities;
using ::labelport::core::testing::UploadOnlyBackend;
using labelport::internal::v1::SampleProgress;
using ::labelport::testing::WaitUntil;

// Polls `store` until the run `uid` is in `state`; returns its last record.
absl::StatusOr<v1::AnnotationRun> WaitForState(store::RunStore& store, const std::string& uid,
                                               v1::RunState state) {
  absl::StatusOr<v1::AnnotationRun> run;
  EXPECT_TRUE(WaitUntil(
      [&] {
        run = store.GetRunByUid(uid);
        return !run.ok() || run->state() == state;
      },
      absl::Seconds(10), absl::StrCat("run ", uid, " reaching ", v1::RunState_Name(state))));
  return run;
}

// Records the `count` samples from position `first` on as LABELS_IMPORTED in
// `journal`.
boost::asio::awaitable<absl::Status> SaveImported(backend::UploadJournal& journal, int64_t first,
                                                  int64_t count) {
  std::vector<SampleProgress> progress;
  for (int64_t position = first; position < first + count; ++position) {
    SampleProgress& p = progress.emplace_back();
    p.set_position(position);
    p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
  }
  co_return co_await journal.SaveProgress(std::move(progress));
}

// Uploads sample 0, then waits for the test to take the lease away and for
// the worker to notice (the journal's lease check fails), and tries to
// record sample 1.
class StallingBackend : public UploadOnlyBackend {
 public:
  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal& journal) override {
    first_save = co_await SaveImported(journal, /*first=*/0, /*count=*/1);
    started.Notify();
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!lease_stolen.load()) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    // Until the worker's heartbeat (every lease_ttl / 3) noticed; 10 s at most.
    for (int polls = 0; await_fence && journal.CheckLease().ok() && polls < 10000; ++polls) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    second_save = co_await SaveImported(journal, /*first=*/1, /*count=*/1);
    finished.Notify();
    co_return second_save;
  }

  absl::Notification started;
  absl::Notification finished;
  std::atomic<bool> lease_stolen{false};
  // Whether to wait for the lost lease to close the journal's fence.
  std::atomic<bool> await_fence{true};
  absl::Status first_save;
  absl::Status second_save;
};

// Hands out `backend` for tenant `tenant` only, as the server's provider
// hands out each tenant's own backend.
class OneTenantProvider : public backend::BackendProvider {
 public:
  const backend::BackendCapabilities& Capabilities() const override { return TestCapabilities(); }
  OneTenantProvider(std::string tenant, backend::AnnotationBackend* backend)
      : tenant_(std::move(tenant)), backend_(backend) {}

  absl::StatusOr<std::shared_ptr<backend::AnnotationBackend>> BackendFor(
      const std::string& tenant) override {
    if (tenant != tenant_)
      return absl::FailedPreconditionError("tenant '" + tenant + "' has no V7 API key");
    return std::shared_ptr<backend::AnnotationBackend>(std::shared_ptr<void>(), backend_);
  }

 private:
  std::string tenant_;
  backend::AnnotationBackend* backend_;
};

// Each test's store (in-memory SQLite) and the io_context its worker runs
// on, with the threads that run it until StopIo (at the latest TearDown).
class RunWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = InMemoryStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override { StopIo(); }

  // Creates a pending run of `tenant` with one sample per id of
  // `sample_ids`; returns its uid.
  absl::StatusOr<std::string> CreatePendingRun(const std::string& tenant,
                                               const std::string& anno_key,
                                               const std::vector<std::string>& sample_ids) {
    auto created = store_->CreateRun(NewRunOf(tenant, anno_key, sample_ids));
    if (!created.ok()) return created.status();
    return created->run_id;
  }

  // Expects `refusal` to be the lease fence's: ABORTED, the lease could not be
  // renewed.
  static void ExpectLeaseRefusal(const absl::Status& refusal) {
    EXPECT_EQ(refusal.code(), absl::StatusCode::kAborted) << refusal;
    EXPECT_THAT(std::string(refusal.message()),
                ::testing::HasSubstr("could not renew the run's lease"));
  }

  // Expects run `uid` paused in UPLOADING, not failed (a store outage never
  // fails a run).
  void ExpectPausedNotFailed(const std::string& uid) {
    auto paused = store_->GetRunByUid(uid);
    ASSERT_TRUE(paused.ok()) << paused.status();
    EXPECT_EQ(paused->state(), v1::RUN_STATE_UPLOADING);
    EXPECT_EQ(paused->failure_reason(), "");
  }

  // Runs the io_context on `threads` more threads (tests stop their worker
  // first, then call StopIo: the worker goes before the io_context, as in
  // the server).
  void StartIo(int threads = 1) {
    for (int t = 0; t < threads; ++t) io_threads_.emplace_back([this] { io_.run(); });
  }
  // Lets the io_context's threads end and joins them.
  void StopIo() {
    work_.reset();
    io_.stop();
    for (std::thread& t : io_threads_) t.join();
    io_threads_.clear();
  }

  std::unique_ptr<store::SqliteRunStore> store_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::vector<std::thread> io_threads_;
};

TEST_F(RunWorkerTest, AWorkerThatLostItsLeaseStopsAndLeavesTheRunToTheNewOwner) {
  auto uid = CreatePendingRun("tenant", "fenced", {"a", "b"});
  ASSERT_TRUE(uid.ok()) << uid.status();

  StallingBackend backend;
  StartIo();
  OneTenantProvider backends("tenant", &backend);
  RunWorker worker(store_.get(), &backends, io_.get_executor(),
                   {.owner_id = "worker-a",
                    .lease_ttl = absl::Milliseconds(300),
                    .poll_interval = absl::Milliseconds(50)});
  worker.Start();
  ASSERT_TRUE(backend.started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(backend.first_save.ok()) << backend.first_save;

  // Another worker takes the run over (as after worker-a was cut off from
  // the store for longer than its lease).
  // (worker-a's heartbeat may renew in between release and take: retry.)
  bool taken = false;
  for (int attempt = 0; attempt < 100 && !taken; ++attempt) {
    ASSERT_TRUE(store_->ReleaseLease(*uid, "worker-a").ok());
    auto acquired = store_->AcquireLease(*uid, "worker-b", absl::Minutes(1));
    ASSERT_TRUE(acquired.ok()) << acquired.status();
    taken = *acquired;
  }
  ASSERT_TRUE(taken);
  backend.lease_stolen = true;

  ASSERT_TRUE(backend.finished.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(backend.second_save.code(), absl::StatusCode::kAborted) << backend.second_save;
  // Let the worker wind the job up.
  EXPECT_TRUE(
      WaitUntil([&] { return worker.active_jobs() == 0; }, absl::Seconds(10), "the job's end"));
  worker.Stop();
  StopIo();

  // Nothing was written after the takeover, the run was not failed, and the
  // new owner still holds the lease.
  auto progress = store_->LoadSampleProgressRange(*uid, 0, 1 << 20);
  ASSERT_TRUE(progress.ok()) << progress.status();
  ASSERT_EQ(progress->size(), 1u);
  EXPECT_EQ((*progress)[0].position(), 0);
  auto after = store_->GetRunByUid(*uid);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), v1::RUN_STATE_UPLOADING);
  EXPECT_EQ(after->failure_reason(), "");
  auto still_b = store_->AcquireLease(*uid, "worker-a", absl::Minutes(1));
  ASSERT_TRUE(still_b.ok());
  EXPECT_FALSE(*still_b);
}

TEST_F(RunWorkerTest, ARunIsUploadedWithItsTenantsBackendOnly) {
  auto uid = CreatePendingRun("other", "no_key", {"a"});
  ASSERT_TRUE(uid.ok()) << uid.status();

  StallingBackend backend;  // tenant "tenant"'s: must never be called for "other"
  OneTenantProvider backends("tenant", &backend);
  StartIo();
  RunWorker worker(store_.get(), &backends, io_.get_executor(),
                   {.owner_id = "worker-a", .poll_interval = absl::Milliseconds(50)});
  worker.Start();
  absl::StatusOr<v1::AnnotationRun> after = WaitForState(*store_, *uid, v1::RUN_STATE_FAILED);
  ASSERT_TRUE(after.ok()) << after.status();
  worker.Stop();
  StopIo();
  EXPECT_EQ(after->state(), v1::RUN_STATE_FAILED);
  EXPECT_EQ(after->failure_reason(), "tenant 'other' has no V7 API key");
  EXPECT_FALSE(backend.started.HasBeenNotified());
}

// Holds every job until the test opens the gate; records the anno keys of
// the runs whose jobs started.
class GatedBackend : public UploadOnlyBackend {
 public:
  explicit GatedBackend(boost::asio::any_io_executor io)
      : gate_(std::make_shared<boost::asio::steady_timer>(io)) {
    gate_->expires_at(boost::asio::steady_timer::time_point::max());
  }

  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal& journal) override {
    {
      absl::MutexLock lock(&mu_);
      started_.push_back(journal.run().anno_key());
    }
    auto gate = gate_;
    boost::system::error_code ec;
    co_await gate->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_return absl::OkStatus();
  }

  // Waits (up to `timeout`) until `count` jobs started; returns their keys.
  std::vector<std::string> WaitForStarted(size_t count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, count]()
                      ABSL_SHARED_LOCKS_REQUIRED(mu_) { return started_.size() >= count; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
    return started_;
  }
  // Lets every job waiting now or later finish.
  void Open() {
    auto gate = gate_;
    boost::asio::post(gate->get_executor(),
                      [gate] { gate->expires_at(boost::asio::steady_timer::time_point::min()); });
  }

 private:
  std::shared_ptr<boost::asio::steady_timer> gate_;
  absl::Mutex mu_;
  std::vector<std::string> started_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RunWorkerTest, OneTenantsBacklogCannotTakeEveryRunSlot) {
  std::vector<std::string> uids;
  auto create = [&](const std::string& tenant, const std::string& key) {
    auto uid = CreatePendingRun(tenant, key, {"a"});
    ASSERT_TRUE(uid.ok()) << uid.status();
    uids.push_back(*uid);
  };
  // "busy" has a backlog of three runs; the worker has three slots.
  for (const char* key : {"b1", "b2", "b3"}) create("busy", key);

  StartIo();
  GatedBackend backend(io_.get_executor());
  AnyTenantProvider backends(&backend);
  RunWorker worker(store_.get(), &backends, io_.get_executor(),
                   {.owner_id = "worker-a",
                    .poll_interval = absl::Milliseconds(50),
                    .max_concurrent_runs = 3,
                    .max_concurrent_runs_per_tenant = 2});
  worker.Start();
  // Two of busy's runs start; the third slot stays free for other tenants
  // (without the per-tenant limit b3 would take it at once).
  std::vector<std::string> started = backend.WaitForStarted(2, absl::Seconds(10));
  ASSERT_EQ(started.size(), 2u);
  // "quiet" arrives later and gets the free slot although b3 is older.
  create("quiet", "q1");
  worker.Wake();
  started = backend.WaitForStarted(3, absl::Seconds(10));
  EXPECT_THAT(started, ::testing::UnorderedElementsAre("b1", "b2", "q1"));

  // Once the gate opens every run finishes, busy's third one too.
  backend.Open();
  started = backend.WaitForStarted(4, absl::Seconds(10));
  EXPECT_THAT(started, ::testing::UnorderedElementsAre("b1", "b2", "b3", "q1"));
  for (const std::string& uid : uids) {
    absl::StatusOr<v1::AnnotationRun> run = WaitForState(*store_, uid, v1::RUN_STATE_ANNOTATING);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->state(), v1::RUN_STATE_ANNOTATING) << run->anno_key();
  }
  worker.Stop();
  StopIo();
}

// Wake (and Stop) come from any thread while the claim loop re-arms its
// timer on one of the io_context's threads; the loop keeps claiming runs.
// (Under TSan a timer cancelled from another thread is a data race; under
// ASan the timer could stay queued after its destruction.)
TEST_F(RunWorkerTest, WakeFromSeveralThreadsWhileTheLoopRuns) {
  StallingBackend backend;
  OneTenantProvider backends("tenant", &backend);
  StartIo(4);
  {
    RunWorker worker(store_.get(), &backends, io_.get_executor(),
                     {.owner_id = "worker-a", .poll_interval = absl::Milliseconds(1)});
    worker.Start();
    std::vector<std::thread> wakers;
    for (int w = 0; w < 4; ++w) {
      wakers.emplace_back([&worker] {
        for (int k = 0; k < 2000; ++k) worker.Wake();
      });
    }
    for (auto& t : wakers) t.join();
    ASSERT_TRUE(CreatePendingRun("tenant", "after_the_wakes", {"a"}).ok());
    worker.Wake();
    EXPECT_TRUE(backend.started.WaitForNotificationWithTimeout(absl::Seconds(10)));
    backend.await_fence = false;  // the lease stays this worker's
    backend.lease_stolen = true;
    EXPECT_TRUE(backend.finished.WaitForNotificationWithTimeout(absl::Seconds(10)));
    worker.Stop();
    StopIo();
  }  // the worker goes before the io_context, as in the server
}

// Lease acquisitions fail (as with the store down) while `down` is set; the
// time of the last successful one is kept.
class LeaseOutageStore : public ForwardingRunStore {
 public:
  using ForwardingRunStore::ForwardingRunStore;
  absl::StatusOr<bool> AcquireLease(const std::string& run_id, const std::string& owner,
                                    absl::Duration ttl) override {
    if (down.load()) return absl::UnavailableError("cannot connect to PostgreSQL (test)");
    const absl::Time sent = absl::Now();
    auto acquired = inner_->AcquireLease(run_id, owner, ttl);
    if (acquired.ok() && *acquired) {
      absl::MutexLock lock(&mu);
      last_acquired = sent;
    }
    return acquired;
  }
  // When the last lease acquisition that succeeded was sent.
  absl::Time LastAcquired() {
    absl::MutexLock lock(&mu);
    return last_acquired;
  }

  std::atomic<bool> down{false};
  absl::Mutex mu;
  absl::Time last_acquired ABSL_GUARDED_BY(mu);
};

// The first job saves a record every 10 ms until a save is refused; later
// jobs complete both samples.
class SaveUntilRefusedBackend : public UploadOnlyBackend {
 public:
  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal& journal) override {
    if (jobs.fetch_add(1) > 0) co_return co_await SaveImported(journal, /*first=*/0, /*count=*/2);
    started.Notify();
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (int step = 0;; ++step) {
      SampleProgress p;
      p.set_position(0);
      p.set_attempts(step);
      p.set_step(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
      std::vector<SampleProgress> one{p};
      absl::Status s = co_await journal.SaveProgress(std::move(one));
      if (!s.ok()) {
        refused = s;
        refused_at = absl::Now();
        first_done.Notify();
        co_return s;
      }
      last_saved_at = absl::Now();
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }

  std::atomic<int> jobs{0};
  absl::Notification started;
  absl::Notification first_done;
  absl::Status refused;
  absl::Time refused_at;
  absl::Time last_saved_at;
};

// The store-outage tests: a worker over a LeaseOutageStore (a lease of
// kOutageTtl, polled every 50 ms) runs tenant "tenant"'s run with a Backend;
// TearDown stops the worker, then the io_context, as the server does.
template <typename Backend>
class LeaseOutageTest : public RunWorkerTest {
 protected:
  static constexpr absl::Duration kOutageTtl = absl::Seconds(3);

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RunWorkerTest::SetUp());
    store_down_ = std::make_unique<LeaseOutageStore>(store_.get());
  }
  void TearDown() override {
    if (worker_ != nullptr) worker_->Stop();
    RunWorkerTest::TearDown();
  }

  // Starts the worker (the io_context on `io_threads` threads), waits until
  // the backend's job has started, then takes the store down for lease
  // renewals.
  void StartJobThenStoreOutage(int io_threads) {
    StartIo(io_threads);
    worker_ =
        std::make_unique<RunWorker>(store_down_.get(), &backends_, io_.get_executor(),
                                    RunWorker::Options{.owner_id = "worker-a",
                                                       .lease_ttl = kOutageTtl,
                                                       .poll_interval = absl::Milliseconds(50)});
    worker_->Start();
    ASSERT_TRUE(backend_.started.WaitForNotificationWithTimeout(absl::Seconds(10)));
    store_down_->down = true;
  }

  Backend backend_;
  OneTenantProvider backends_{"tenant", &backend_};
  std::unique_ptr<LeaseOutageStore> store_down_;
  std::unique_ptr<RunWorker> worker_;
};

using SaveUntilRefusedOutageTest = LeaseOutageTest<SaveUntilRefusedBackend>;

TEST_F(SaveUntilRefusedOutageTest, AWorkerThatCannotRenewStopsWritingBeforeTheLeaseCanExpire) {
  auto uid = CreatePendingRun("tenant", "cut_off", {"a", "b"});
  ASSERT_TRUE(uid.ok()) << uid.status();

  // The store goes away for lease renewals (the claim is done).
  ASSERT_NO_FATAL_FAILURE(StartJobThenStoreOutage(/*io_threads=*/1));
  ASSERT_TRUE(backend_.first_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  absl::Time claimed_at = store_down_->LastAcquired();
  // Refused by the fence, after two thirds of the ttl without renewal and
  // before the lease could expire; nothing was saved after that.
  ExpectLeaseRefusal(backend_.refused);
  EXPECT_LT(backend_.last_saved_at, claimed_at + kOutageTtl);
  EXPECT_LT(backend_.refused_at, claimed_at + kOutageTtl);
  EXPECT_GE(backend_.refused_at, claimed_at + kOutageTtl / 2);
  // The worker leaves the run UPLOADING (a store outage never fails it).
  EXPECT_TRUE(
      WaitUntil([&] { return worker_->active_jobs() == 0; }, absl::Seconds(10), "the job's end"));
  ExpectPausedNotFailed(*uid);

  // The store is back: the worker claims the run again and completes it.
  store_down_->down = false;
  absl::StatusOr<v1::AnnotationRun> after = WaitForState(*store_, *uid, v1::RUN_STATE_ANNOTATING);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), v1::RUN_STATE_ANNOTATING) << after->failure_reason();
  EXPECT_EQ(after->progress().samples_completed(), 2);
  EXPECT_EQ(backend_.jobs.load(), 2);
}

// Its job stands for a V7 call that takes a minute: it waits on a timer on
// a strand of its own, which the journal's lease watch cancels there.
// Waits for `call` to expire or be cancelled. A coroutine function with its
// state in parameters, not a lambda coroutine with captures given to
// co_spawn: GCC 12 let such a lambda's captured shared_ptr be released once
// too often (valgrind: a read of the freed timer's control block; glibc
// aborted about one run in ten with "corrupted double-linked list").
boost::asio::awaitable<void> WaitFor(std::shared_ptr<boost::asio::steady_timer> call,
                                     boost::system::error_code& ec) {
  co_await call->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

class LongCallBackend : public UploadOnlyBackend {
 public:
  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal& journal) override {
    auto strand = boost::asio::make_strand(co_await boost::asio::this_coro::executor);
    auto call = std::make_shared<boost::asio::steady_timer>(strand);
    call->expires_after(std::chrono::minutes(1));
    auto watch = journal.WatchLease([this, strand, call](const absl::Status& closed) {
      {
        absl::MutexLock lock(&mu);
        told = closed;
        told_at = absl::Now();
      }
      boost::asio::post(strand, [call] { call->cancel(); });
    });
    started.Notify();
    boost::system::error_code ec;
    co_await boost::asio::co_spawn(strand, WaitFor(call, ec), boost::asio::use_awaitable);
    ended_at = absl::Now();
    co_return ec ? journal.CheckLease() : absl::OkStatus();
  }

  absl::Notification started;
  absl::Mutex mu;
  absl::Status told ABSL_GUARDED_BY(mu);
  absl::Time told_at ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  absl::Time ended_at = absl::InfiniteFuture();
};

using LongCallOutageTest = LeaseOutageTest<LongCallBackend>;

TEST_F(LongCallOutageTest, ACallInFlightIsAbandonedAtTheFencesDeadlineWhenTheLeaseCannotBeRenewed) {
  auto uid = CreatePendingRun("tenant", "in_flight", {"a"});
  ASSERT_TRUE(uid.ok()) << uid.status();

  // The store goes away for lease renewals while the call is in flight.
  ASSERT_NO_FATAL_FAILURE(StartJobThenStoreOutage(/*io_threads=*/3));
  absl::Time claimed_at = store_down_->LastAcquired();
  EXPECT_TRUE(
      WaitUntil([&] { return worker_->active_jobs() == 0; }, absl::Seconds(20), "the job ended"));
  // Renewals may have succeeded before the store went away.
  claimed_at = std::max(claimed_at, store_down_->LastAcquired());
  absl::Status told;
  absl::Time told_at;
  {
    absl::MutexLock lock(&backend_.mu);
    told = backend_.told;
    told_at = backend_.told_at;
  }
  // Told at the fence's deadline (two thirds of the ttl after the last
  // renewal), before the lease could expire; the call ended then.
  ExpectLeaseRefusal(told);
  EXPECT_GE(told_at, claimed_at + kOutageTtl / 2);
  EXPECT_LT(told_at, claimed_at + kOutageTtl);
  EXPECT_LT(backend_.ended_at, claimed_at + kOutageTtl);
  // Paused, not failed.
  ExpectPausedNotFailed(*uid);
}

}  // namespace
}  // namespace labelport::core
