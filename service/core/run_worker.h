// RunWorker: claims runs that need upload work (PENDING, or UPLOADING with
// an expired lease — e.g. after a crash) and drives them through the
// AnnotationBackend, one lease-holding job per run:
//
//   PENDING/UPLOADING --claim--> UPLOADING --backend ok--> ANNOTATING
//                                          --all samples failed / run error--> FAILED
//
// The lease is renewed while the job runs; if the process dies, another
// worker (or this one after a restart: a worker with the same `owner_id`
// takes its own lease back at once) resumes the run from the journal.
// Fencing (LeaseFence): the job stops before its next write (journal or V7)
// once its worker finds the lease taken over, or has not renewed the lease
// for ttl - ttl/3 (e.g. cut off from the store), so that it has stopped
// before the lease can expire and another worker claim the run; the V7
// calls in flight then are abandoned (the fence tells the backend through
// UploadJournal::WatchLease: at once when the heartbeat finds the lease
// lost, and at the fence's deadline by a timer, re-armed as renewals move
// the deadline on). Either way
// the worker leaves the run's state alone: a new owner carries on, or this
// worker claims the run again once the store answers. The heartbeat renews
// every ttl/3, and after a failed renewal again every ttl/10.
// Store calls run on `store_pool` (bounded), never on the I/O threads.
// Each run is uploaded by the backend of the run's tenant (BackendProvider);
// a tenant without credentials gets its run FAILED with a reason that says
// so (it can be resumed once the credentials are configured).
// Fairness: at most `max_concurrent_runs_per_tenant` jobs of one tenant run
// at once, and the store lists claimable runs round-robin across tenants
// (RunStore::ListClaimableRuns), so one tenant's backlog never starves
// another tenant's run.
// Thread-safety: Start/Wake/Stop may be called from any thread.
#ifndef LABELPORT_SERVICE_CORE_RUN_WORKER_H_
#define LABELPORT_SERVICE_CORE_RUN_WORKER_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/backend/backend_provider.h"
#include "service/common/metrics.h"
#include "service/core/lease_fence.h"
#include "service/store/run_store.h"

namespace labelport::core {

class RunWorker {
 public:
  struct Options {
    // Identifies this worker in leases; stable across restarts of one
    // replica (e.g. the host name).
    std::string owner_id = "labelport";
    absl::Duration lease_ttl = absl::Seconds(30);
    absl::Duration poll_interval = absl::Seconds(1);
    int max_concurrent_runs = 4;
    // Jobs of one tenant running at once on this worker (1 ..
    // max_concurrent_runs), so that one tenant's slow or stalled runs cannot
    // take every slot: the other tenants' runs are claimed first.
    int max_concurrent_runs_per_tenant = 2;
    // Receives AddSamplesUploaded at the end of each job (the samples that
    // reached completed or failed during it); null for none. Must outlive
    // the worker.
    common::Metrics* metrics = nullptr;
    // Where the worker's store calls run (--store_threads); null: a pool of
    // two threads of the worker's own. Must outlive the worker.
    boost::asio::thread_pool* store_pool = nullptr;
  };

  // `store` and `backends` must outlive the worker.
  RunWorker(store::RunStore* store, backend::BackendProvider* backends,
            boost::asio::any_io_executor executor, Options options);
  ~RunWorker();

  // Starts the claim loop on the executor.
  void Start();
  // Looks for work now (e.g. a run was just created or resumed).
  void Wake();
  // Stops claiming new runs and ends the loop; jobs in flight stop at their
  // next await when the io_context stops. Leases are left to expire.
  void Stop();

  // Number of jobs running now.
  int active_jobs() const { return active_.load(); }

 private:
  boost::asio::awaitable<void> Loop();
  // `acquired_at`: when the claim that acquired the lease was sent.
  boost::asio::awaitable<void> ProcessRun(std::string uid, std::string tenant,
                                          absl::Time acquired_at);
  // Renews the lease until `done`, recording each renewal in `fence`; marks
  // it lost (and stops) when another worker holds the lease or the run is
  // gone.
  boost::asio::awaitable<void> Heartbeat(std::string uid, std::shared_ptr<std::atomic<bool>> done,
                                         std::shared_ptr<LeaseFence> fence);
  // The timer of one job's fence; touched on its strand only.
  struct FenceClock {
    explicit FenceClock(const boost::asio::any_io_executor& strand) : timer(strand) {}
    boost::asio::steady_timer timer;
    bool done = false;
  };
  // Runs on `clock`'s strand until the job is done or the lease lost: at
  // the fence's deadline, closes it by time (NotifyIfClosed: its watchers
  // abandon their V7 calls), then waits for the deadline a renewal sets.
  boost::asio::awaitable<void> CloseFenceOnTime(std::shared_ptr<LeaseFence> fence,
                                                std::shared_ptr<FenceClock> clock);

  store::RunStore* store_;
  backend::BackendProvider* backends_;
  boost::asio::any_io_executor executor_;
  Options options_;
  std::unique_ptr<boost::asio::thread_pool> own_store_pool_;
  boost::asio::thread_pool* const store_pool_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
  absl::Mutex mu_;
  std::set<std::string> running_ ABSL_GUARDED_BY(mu_);
  // Jobs running now per tenant (entries removed at zero).
  std::map<std::string, int> running_per_tenant_ ABSL_GUARDED_BY(mu_);
  // The claim loop and the wake timer it sleeps on run on this strand; Wake
  // cancels the timer there (a timer is not safe to use from two threads).
  boost::asio::any_io_executor loop_strand_;
  std::shared_ptr<boost::asio::steady_timer> wake_timer_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_WORKER_H_
