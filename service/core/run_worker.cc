#include "service/core/run_worker.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/common/await_on_pool.h"
#include "service/common/log.h"
#include "service/core/store_upload_journal.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;

// The journal of a job, whose backend may also watch the lease fence
// (UploadJournal::WatchLease) to abandon V7 calls in flight when it closes.
class FencedJournal final : public StoreUploadJournal {
 public:
  FencedJournal(store::RunStore* store, v1::AnnotationRun run, std::shared_ptr<LeaseFence> fence,
                boost::asio::thread_pool* store_pool)
      : StoreUploadJournal(store, std::move(run), fence, store_pool), fence_(std::move(fence)) {}

  std::unique_ptr<backend::LeaseWatch> WatchLease(
      const std::function<void(const absl::Status&)>& on_closed) override {
    class Watch final : public backend::LeaseWatch {
     public:
      Watch(std::shared_ptr<LeaseFence> fence, int64_t id) : fence_(std::move(fence)), id_(id) {}
      ~Watch() override { fence_->Unwatch(id_); }

     private:
      const std::shared_ptr<LeaseFence> fence_;
      const int64_t id_;
    };
    const int64_t id = fence_->Watch(on_closed);
    return std::make_unique<Watch>(fence_, id);
  }

 private:
  const std::shared_ptr<LeaseFence> fence_;
};

boost::asio::awaitable<void> Sleep(absl::Duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoMilliseconds(d));
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

}  // namespace

RunWorker::RunWorker(store::RunStore* store, backend::BackendProvider* backends,
                     boost::asio::any_io_executor executor, Options options)
    : store_(store),
      backends_(backends),
      executor_(std::move(executor)),
      options_(std::move(options)),
      own_store_pool_(options_.store_pool == nullptr ? std::make_unique<boost::asio::thread_pool>(2)
                                                     : nullptr),
      store_pool_(options_.store_pool != nullptr ? options_.store_pool : own_store_pool_.get()),
      loop_strand_(boost::asio::make_strand(executor_)),
      wake_timer_(std::make_shared<boost::asio::steady_timer>(loop_strand_)) {}

RunWorker::~RunWorker() { Stop(); }

void RunWorker::Start() { boost::asio::co_spawn(loop_strand_, Loop(), boost::asio::detached); }

void RunWorker::Wake() {
  auto timer = wake_timer_;
  boost::asio::post(loop_strand_, [timer] { timer->cancel(); });
}

void RunWorker::Stop() {
  if (stopped_.exchange(true)) return;
  Wake();
}

boost::asio::awaitable<void> RunWorker::Loop() {
  while (!stopped_.load()) {
    const int free_slots = options_.max_concurrent_runs - active_.load();
    if (free_slots > 0) {
      // Tenants at their own limit are skipped; the store lists one run of
      // each tenant before a second of any, so the window is wide enough when
      // it also covers every skipped tenant.
      int saturated_tenants = 0;
      {
        absl::MutexLock lock(&mu_);
        for (const auto& [tenant, jobs] : running_per_tenant_) {
          if (jobs >= options_.max_concurrent_runs_per_tenant) ++saturated_tenants;
        }
      }
      const int window = free_slots + saturated_tenants + 8;
      auto list = [this, window] { return store_->ListClaimableRuns(window, options_.owner_id); };
      auto claimable = co_await common::AwaitOnPool(*store_pool_, std::move(list));
      if (!claimable.ok()) {
        common::LogWarning(absl::StrCat("run worker: cannot list runs to work on: ",
                                        claimable.status().message()));
      } else {
        int started = 0;
        for (const store::ClaimableRun& claimable_run : *claimable) {
          const std::string& uid = claimable_run.run_id;
          const std::string& tenant = claimable_run.key.tenant;
          if (started >= free_slots) break;
          {
            absl::MutexLock lock(&mu_);
            if (running_.count(uid) > 0) continue;
            auto jobs = running_per_tenant_.find(tenant);
            if (jobs != running_per_tenant_.end() &&
                jobs->second >= options_.max_concurrent_runs_per_tenant)
              continue;
          }
          // The lease lasts at least ttl from when the claim was sent.
          const absl::Time acquired_at = absl::Now();
          auto acquire = [this, uid] {
            return store_->AcquireLease(uid, options_.owner_id, options_.lease_ttl);
          };
          auto acquired = co_await common::AwaitOnPool(*store_pool_, std::move(acquire));
          if (!acquired.ok() || !*acquired) continue;
          {
            absl::MutexLock lock(&mu_);
            running_.insert(uid);
            ++running_per_tenant_[tenant];
          }
          ++active_;
          ++started;
          boost::asio::co_spawn(executor_, ProcessRun(uid, tenant, acquired_at),
                                boost::asio::detached);
        }
      }
    }
    wake_timer_->expires_after(absl::ToChronoMilliseconds(options_.poll_interval));
    boost::system::error_code ec;
    co_await wake_timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

boost::asio::awaitable<void> RunWorker::Heartbeat(std::string uid,
                                                  std::shared_ptr<std::atomic<bool>> done,
                                                  std::shared_ptr<LeaseFence> fence) {
  const absl::Duration every = options_.lease_ttl / 3;
  const absl::Duration after_failure = std::max(options_.lease_ttl / 10, absl::Milliseconds(50));
  absl::Duration wait = every;
  while (!done->load() && !stopped_.load()) {
    co_await Sleep(wait);
    if (done->load()) break;
    // The lease lasts at least ttl from when the renewal was sent.
    const absl::Time sent = absl::Now();
    auto renew = [this, uid] {
      return store_->AcquireLease(uid, options_.owner_id, options_.lease_ttl);
    };
    auto renewed = co_await common::AwaitOnPool(*store_pool_, std::move(renew));
    if (!renewed.ok() && renewed.status().code() == absl::StatusCode::kNotFound) {
      fence->MarkLost();
      common::LogInfo(absl::StrCat("run ", uid, ": the run was deleted; its upload stops"));
      break;
    }
    if (!renewed.ok()) {
      common::LogWarning(
          absl::StrCat("run ", uid, ": could not renew the lease: ", renewed.status().message()));
      wait = after_failure;
      continue;
    }
    if (!*renewed) {
      fence->MarkLost();
      common::LogWarning(absl::StrCat("run ", uid,
                                      ": the lease was taken over by another worker; this worker "
                                      "stops uploading the run"));
      break;
    }
    fence->MarkRenewed(sent);
    wait = every;
  }
}

boost::asio::awaitable<void> RunWorker::CloseFenceOnTime(std::shared_ptr<LeaseFence> fence,
                                                         std::shared_ptr<FenceClock> clock) {
  // After a closure by time, how soon to look for a renewal that reopened
  // the fence (its new deadline is then waited for).
  const absl::Duration recheck = std::max(options_.lease_ttl / 10, absl::Milliseconds(50));
  while (!clock->done && !fence->lost()) {
    absl::Duration wait = fence->deadline() - absl::Now();
    if (wait < absl::ZeroDuration()) {
      (void)fence->NotifyIfClosed();
      wait = recheck;
    }
    // Writes are refused from just after the deadline.
    clock->timer.expires_after(absl::ToChronoMicroseconds(wait) + std::chrono::milliseconds(1));
    boost::system::error_code ec;
    co_await clock->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

boost::asio::awaitable<void> RunWorker::ProcessRun(std::string uid, std::string tenant,
                                                   absl::Time acquired_at) {
  auto finish = [this, uid, tenant]() -> boost::asio::awaitable<void> {
    // When the store is down, the lease expires by itself.
    auto release = [this, uid] { return store_->ReleaseLease(uid, options_.owner_id); };
    (void)co_await common::AwaitOnPool(*store_pool_, std::move(release));
    {
      absl::MutexLock lock(&mu_);
      running_.erase(uid);
      if (--running_per_tenant_[tenant] <= 0) running_per_tenant_.erase(tenant);
      --active_;
    }
    // A tenant below its limit again may have runs waiting.
    Wake();
  };
  auto fence =
      std::make_shared<LeaseFence>(uid, options_.lease_ttl, options_.lease_ttl / 3, acquired_at);
  auto start = [this, uid] {
    return store_->UpdateRun(uid, [](v1::AnnotationRun& run) {
      if (run.state() == v1::RUN_STATE_PENDING) run.set_state(v1::RUN_STATE_UPLOADING);
      run.clear_failure_reason();
      return absl::OkStatus();
    });
  };
  auto started = co_await common::AwaitOnPool(*store_pool_, std::move(start));
  if (!started.ok() || started->state() != v1::RUN_STATE_UPLOADING) {
    co_await finish();
    co_return;
  }
  common::LogInfo(absl::StrCat("run ", started->name(), " (", uid, "): upload started"));
  auto done = std::make_shared<std::atomic<bool>>(false);
  boost::asio::co_spawn(executor_, Heartbeat(uid, done, fence), boost::asio::detached);
  // The fence closes by time even while the heartbeat waits for the store.
  auto clock_strand = boost::asio::make_strand(executor_);
  auto clock = std::make_shared<FenceClock>(clock_strand);
  boost::asio::co_spawn(clock_strand, CloseFenceOnTime(fence, clock), boost::asio::detached);

  auto backend = backends_->BackendFor(tenant);
  absl::Status status = backend.status();
  if (backend.ok()) {
    FencedJournal journal(store_, *started, fence, store_pool_);
    status = co_await (*backend)->UploadRun(journal);
  }
  done->store(true);
  boost::asio::post(clock_strand, [clock] {
    clock->done = true;
    clock->timer.cancel();
  });
  if (fence->lost()) {
    // The new owner finishes the run and sets its state.
    common::LogInfo(absl::StrCat("run ", started->name(), " (", uid,
                                 "): left to the worker that took the lease over"));
    co_await finish();
    co_return;
  }
  if (!status.ok() && fence->was_closed()) {
    // Stopped by the fence (the lease could not be renewed in time): the
    // run stays UPLOADING and is claimed again (by this worker or another)
    // once the store answers; the resumed job carries on from the journal.
    common::LogWarning(
        absl::StrCat("run ", started->name(), " (", uid, "): upload paused: ", status.message()));
    co_await finish();
    co_return;
  }

  auto end = [&] {
    return store_->UpdateRun(uid, [&](v1::AnnotationRun& run) -> absl::Status {
      if (run.state() != v1::RUN_STATE_UPLOADING) return absl::OkStatus();
      const auto& p = run.progress();
      if (!status.ok()) {
        run.set_state(v1::RUN_STATE_FAILED);
        run.set_failure_reason(std::string(status.message()));
      } else if (p.samples_total() > 0 && p.samples_failed() == p.samples_total()) {
        run.set_state(v1::RUN_STATE_FAILED);
        run.set_failure_reason(absl::StrFormat(
            "all %d samples failed; see sample_errors, fix the causes and resume the run",
            p.samples_total()));
      } else {
        run.set_state(v1::RUN_STATE_ANNOTATING);
      }
      return absl::OkStatus();
    });
  };
  auto ended = co_await common::AwaitOnPool(*store_pool_, std::move(end));
  if (ended.ok() && options_.metrics != nullptr) {
    options_.metrics->AddSamplesUploaded("completed", ended->progress().samples_completed() -
                                                          started->progress().samples_completed());
    options_.metrics->AddSamplesUploaded(
        "failed", ended->progress().samples_failed() - started->progress().samples_failed());
  }
  if (ended.ok()) {
    common::LogInfo(
        absl::StrCat("run ", ended->name(), " (", uid, "): ", v1::RunState_Name(ended->state()),
                     ended->failure_reason().empty() ? "" : ": ", ended->failure_reason()));
  }
  co_await finish();
}

}  // namespace labelport::core
