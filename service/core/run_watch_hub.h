// RunWatchHub: follows runs for their watchers (WatchRun), driven by change
// notifications instead of polling (DESIGN.md §11).
//
// Each watched run is subscribed once to the RunChangeNotifier. A
// notification schedules one read of the run on `executor`, and the record
// read is handed to every watcher of that run: one store read per change
// and replica, however many watchers there are. Notifications that arrive
// while a read is queued or running fold into one more read after it. A
// new watcher gets a read of its own too (folded the same way), so it starts
// from the current record.
//
// Safety re-read: every `reread_interval` (default 30 s) each watched run
// is read once more, in case a change was never announced (e.g. made by a
// process on the same SQLite file). Nothing else polls the store; an idle
// watcher costs nothing.
//
// Thread-safety: all methods may be called from any thread. `store`,
// `notifier` and `executor` must outlive the hub, and every Watch must be
// destroyed before it; the destructor waits for reads still running.
#ifndef LABELPORT_SERVICE_CORE_RUN_WATCH_HUB_H_
#define LABELPORT_SERVICE_CORE_RUN_WATCH_HUB_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "labelport/v1/annotation_service.pb.h"
#include "service/common/periodic_thread.h"
#include "service/store/run_change_notifier.h"
#include "service/store/run_store.h"

namespace labelport::core {

class RunWatchHub {
 public:
  struct Options {
    // How often every watched run is read even without a notification.
    absl::Duration reread_interval = absl::Seconds(30);
    // A run with more watchers than this has its records handed out by
    // several executor threads at once, this many watchers each.
    size_t fan_out_chunk = 64;
  };

  // The WatchRun event of the run's record after a read (`sequence` is the
  // record's `revision`; not necessarily new to the watcher), built once and
  // shared by all watchers of the run, or the read's error (NOT_FOUND once
  // the run is deleted). Called on an executor thread, never twice at once
  // for one watch, in the order of the reads, and never after its Watch is
  // destroyed. Must be quick and must not destroy its own Watch.
  using Event = std::shared_ptr<const labelport::v1::WatchRunResponse>;
  using Listener = std::function<void(const absl::StatusOr<Event>& event)>;

  // A watcher's registration: destroying it unregisters the listener (and
  // waits for a call of it in progress on another thread).
  class Watch {
   public:
    virtual ~Watch() = default;
  };

  RunWatchHub(store::RunStore* store, store::RunChangeNotifier* notifier,
              boost::asio::any_io_executor executor, Options options);
  RunWatchHub(store::RunStore* store, store::RunChangeNotifier* notifier,
              boost::asio::any_io_executor executor)
      : RunWatchHub(store, notifier, std::move(executor), Options()) {}
  ~RunWatchHub();
  RunWatchHub(const RunWatchHub&) = delete;
  RunWatchHub& operator=(const RunWatchHub&) = delete;

  // Follows run `run_id` (its uid): `listener` gets the record of a read
  // scheduled now, then one after every change.
  std::unique_ptr<Watch> Follow(const std::string& run_id, Listener listener);

  // Waits until no read is queued or running; false at `deadline` (tests).
  bool WaitForIdle(absl::Time deadline);

  // Runs with at least one watcher.
  size_t watched_runs() const;
  // Store reads made so far (for tests).
  int64_t reads() const;

 private:
  struct Watcher {
    explicit Watcher(Listener l) : listener(std::move(l)) {}
    absl::Mutex mu;
    Listener listener ABSL_GUARDED_BY(mu);
  };
  struct RunEntry {
    // Tells this entry from a later one of the same run.
    uint64_t id = 0;
    std::unique_ptr<store::RunChangeNotifier::Subscription> subscription;
    std::vector<std::shared_ptr<Watcher>> watchers;
    // A read is queued or running.
    bool reading = false;
    // A notification came after that read started: read once more after it.
    bool read_again = false;
  };
  // One read's record on its way to many watchers, in slices.
  struct Delivery {
    absl::StatusOr<Event> event;
    std::vector<std::shared_ptr<Watcher>> watchers;
    std::atomic<int> remaining{0};
  };

  void Unfollow(const std::string& run_id, const std::shared_ptr<Watcher>& watcher);
  void ScheduleRead(const std::string& run_id);
  void ScheduleReadLocked(const std::string& run_id, RunEntry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Read(const std::string& run_id, uint64_t entry_id);
  void DeliverSlice(Delivery& delivery, size_t slice, const std::string& run_id, uint64_t entry_id);
  static void Deliver(const absl::StatusOr<Event>& event,
                      std::vector<std::shared_ptr<Watcher>>::const_iterator begin,
                      std::vector<std::shared_ptr<Watcher>>::const_iterator end);
  // Ends a read once every watcher has its record; starts the next one when
  // a notification came meanwhile.
  void FinishRead(const std::string& run_id, uint64_t entry_id);
  void RereadAll();

  store::RunStore* const store_;
  store::RunChangeNotifier* const notifier_;
  const boost::asio::any_io_executor executor_;
  const size_t fan_out_chunk_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RunEntry>> runs_ ABSL_GUARDED_BY(mu_);
  // Reads queued or running (the destructor waits for none).
  int pending_reads_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_entry_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  common::PeriodicThread reread_;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RUN_WATCH_HUB_H_
