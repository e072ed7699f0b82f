#include "service/core/run_watch_hub.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "service/common/on_destroy.h"

namespace labelport::core {

RunWatchHub::RunWatchHub(store::RunStore* store, store::RunChangeNotifier* notifier,
                         boost::asio::any_io_executor executor, Options options)
    : store_(store),
      notifier_(notifier),
      executor_(std::move(executor)),
      fan_out_chunk_(std::max<size_t>(1, options.fan_out_chunk)),
      reread_(options.reread_interval, [this] { RereadAll(); }) {
  reread_.Start();
}

RunWatchHub::~RunWatchHub() {
  reread_.Stop();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* pending) { return *pending == 0; }, &pending_reads_));
}

std::unique_ptr<RunWatchHub::Watch> RunWatchHub::Follow(const std::string& run_id,
                                                        Listener listener) {
  auto watcher = std::make_shared<Watcher>(std::move(listener));
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<RunEntry>& entry = runs_[run_id];
    if (entry == nullptr) {
      entry = std::make_unique<RunEntry>();
      entry->id = ++last_entry_id_;
      // Subscribed before the first read, so no change can fall between.
      entry->subscription = notifier_->Subscribe(run_id, [this, run_id] { ScheduleRead(run_id); });
    }
    entry->watchers.push_back(watcher);
    ScheduleReadLocked(run_id, *entry);
  }
  return std::make_unique<common::OnDestroy<Watch>>(
      [this, run_id, watcher = std::move(watcher)] { Unfollow(run_id, watcher); });
}

void RunWatchHub::Unfollow(const std::string& run_id, const std::shared_ptr<Watcher>& watcher) {
  std::unique_ptr<store::RunChangeNotifier::Subscription> subscription;
  {
    absl::MutexLock lock(&mu_);
    auto it = runs_.find(run_id);
    if (it != runs_.end()) {
      std::vector<std::shared_ptr<Watcher>>& watchers = it->second->watchers;
      watchers.erase(std::remove(watchers.begin(), watchers.end(), watcher), watchers.end());
      if (watchers.empty()) {
        subscription = std::move(it->second->subscription);
        runs_.erase(it);
      }
    }
  }
  // Outside `mu_`: cancelling waits for a notification in progress, which
  // itself takes `mu_` (ScheduleRead).
  subscription.reset();
  absl::MutexLock lock(&watcher->mu);
  watcher->listener = nullptr;
}

void RunWatchHub::ScheduleRead(const std::string& run_id) {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it != runs_.end()) ScheduleReadLocked(run_id, *it->second);
}

void RunWatchHub::ScheduleReadLocked(const std::string& run_id, RunEntry& entry) {
  if (entry.reading) {
    entry.read_again = true;
    return;
  }
  entry.reading = true;
  ++pending_reads_;
  boost::asio::post(executor_, [this, run_id, id = entry.id] { Read(run_id, id); });
}

void RunWatchHub::Read(const std::string& run_id, uint64_t entry_id) {
  absl::StatusOr<Event> event;
  {
    absl::StatusOr<labelport::v1::AnnotationRun> run = store_->GetRunByUid(run_id);
    if (run.ok()) {
      // Built once and shared: every watcher writes this very message.
      auto built = std::make_shared<labelport::v1::WatchRunResponse>();
      built->set_sequence(run->revision());
      *built->mutable_run() = *std::move(run);
      event = std::move(built);
    } else {
      event = run.status();
    }
  }
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    ++reads_;
    auto it = runs_.find(run_id);
    if (it != runs_.end() && it->second->id == entry_id) watchers = it->second->watchers;
  }
  if (watchers.size() <= fan_out_chunk_) {
    Deliver(event, watchers.begin(), watchers.end());
    FinishRead(run_id, entry_id);
    return;
  }
  // Many watchers: slices delivered by several executor threads at once.
  // The run's next read waits for the last slice, so each watcher still
  // gets the reads in order.
  auto delivery = std::make_shared<Delivery>();
  delivery->event = std::move(event);
  delivery->watchers = std::move(watchers);
  const size_t count = delivery->watchers.size();
  const size_t slices = (count + fan_out_chunk_ - 1) / fan_out_chunk_;
  delivery->remaining = static_cast<int>(slices);
  for (size_t slice = 1; slice < slices; ++slice) {
    boost::asio::post(executor_, [this, delivery, run_id, entry_id, slice] {
      DeliverSlice(*delivery, slice, run_id, entry_id);
    });
  }
  DeliverSlice(*delivery, 0, run_id, entry_id);
}

void RunWatchHub::DeliverSlice(Delivery& delivery, size_t slice, const std::string& run_id,
                               uint64_t entry_id) {
  const size_t begin = slice * fan_out_chunk_;
  const size_t end = std::min(delivery.watchers.size(), begin + fan_out_chunk_);
  Deliver(delivery.event, delivery.watchers.begin() + static_cast<std::ptrdiff_t>(begin),
          delivery.watchers.begin() + static_cast<std::ptrdiff_t>(end));
  if (delivery.remaining.fetch_sub(1) == 1) FinishRead(run_id, entry_id);
}

void RunWatchHub::Deliver(const absl::StatusOr<Event>& event,
                          std::vector<std::shared_ptr<Watcher>>::const_iterator begin,
                          std::vector<std::shared_ptr<Watcher>>::const_iterator end) {
  for (auto it = begin; it != end; ++it) {
    Watcher& watcher = **it;
    absl::MutexLock lock(&watcher.mu);
    if (watcher.listener) watcher.listener(event);
  }
}

void RunWatchHub::FinishRead(const std::string& run_id, uint64_t entry_id) {
  absl::MutexLock lock(&mu_);
  --pending_reads_;
  auto it = runs_.find(run_id);
  // The run's watchers all left while reading (maybe others came since).
  if (it == runs_.end() || it->second->id != entry_id) return;
  RunEntry& entry = *it->second;
  entry.reading = false;
  if (entry.read_again) {
    entry.read_again = false;
    ScheduleReadLocked(run_id, entry);
  }
}

void RunWatchHub::RereadAll() {
  absl::MutexLock lock(&mu_);
  // The periodic thread ticks once at start, when every run is fresh.
  if (!started_) {
    started_ = true;
    return;
  }
  for (auto& [run_id, entry] : runs_) ScheduleReadLocked(run_id, *entry);
}

bool RunWatchHub::WaitForIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(
                                   +[](int* pending) { return *pending == 0; }, &pending_reads_),
                               deadline);
}

size_t RunWatchHub::watched_runs() const {
  absl::MutexLock lock(&mu_);
  return runs_.size();
}

int64_t RunWatchHub::reads() const {
  absl::MutexLock lock(&mu_);
  return reads_;
}

}  // namespace labelport::core
