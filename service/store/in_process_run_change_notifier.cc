#include "service/store/in_process_run_change_notifier.h"

#include <algorithm>
#include <utility>

#include "service/common/on_destroy.h"

namespace labelport::store {

std::unique_ptr<RunChangeNotifier::Subscription> InProcessRunChangeNotifier::Subscribe(
    const std::string& run_id, Listener listener) {
  // Not locked here: the entry is not shared yet (and locking it under no
  // other lock keeps the lock order simple: entry, then nothing of ours).
  auto entry = std::make_shared<Entry>(std::move(listener));
  {
    absl::MutexLock lock(&mu_);
    listeners_[run_id].push_back(entry);
  }
  return std::make_unique<common::OnDestroy<Subscription>>(
      [this, run_id, entry = std::move(entry)] { Unsubscribe(run_id, entry); });
}

void InProcessRunChangeNotifier::Unsubscribe(const std::string& run_id,
                                             const std::shared_ptr<Entry>& entry) {
  {
    absl::MutexLock lock(&mu_);
    auto it = listeners_.find(run_id);
    if (it != listeners_.end()) {
      std::vector<std::shared_ptr<Entry>>& entries = it->second;
      entries.erase(std::remove(entries.begin(), entries.end(), entry), entries.end());
      if (entries.empty()) listeners_.erase(it);
    }
  }
  // Waits for a call in progress (Call holds the entry's lock while calling).
  absl::MutexLock lock(&entry->mu);
  entry->listener = nullptr;
}

void InProcessRunChangeNotifier::Call(const std::vector<std::shared_ptr<Entry>>& entries) {
  for (const std::shared_ptr<Entry>& entry : entries) {
    absl::MutexLock lock(&entry->mu);
    if (entry->listener) entry->listener();
  }
}

void InProcessRunChangeNotifier::Notify(absl::string_view run_id) {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    auto it = listeners_.find(run_id);
    if (it == listeners_.end()) return;
    entries = it->second;
  }
  // Called outside `mu_`, so a listener may subscribe (another run) or
  // notify without deadlocking.
  Call(entries);
}

void InProcessRunChangeNotifier::NotifyAll() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [run_id, run_entries] : listeners_) {
      entries.insert(entries.end(), run_entries.begin(), run_entries.end());
    }
  }
  Call(entries);
}

size_t InProcessRunChangeNotifier::watched_runs() const {
  absl::MutexLock lock(&mu_);
  return listeners_.size();
}

}  // namespace labelport::store
