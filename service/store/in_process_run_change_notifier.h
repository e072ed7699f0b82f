// InProcessRunChangeNotifier: the RunChangeNotifier of one process, a map
// from run id to the listeners subscribed to it.
//
// Notify(run_id) costs one hash lookup when nobody watches the run, and
// calls only that run's listeners otherwise. Listeners of one run are called
// one after another on the notifying thread; a listener whose subscription
// is being destroyed on another thread finishes its call first.
//
// Thread-safety: all methods may be called concurrently. The notifier must
// outlive its subscriptions.
#ifndef LABELPORT_SERVICE_STORE_IN_PROCESS_RUN_CHANGE_NOTIFIER_H_
#define LABELPORT_SERVICE_STORE_IN_PROCESS_RUN_CHANGE_NOTIFIER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "service/store/run_change_notifier.h"

namespace labelport::store {

class InProcessRunChangeNotifier final : public RunChangeNotifier {
 public:
  InProcessRunChangeNotifier() = default;
  InProcessRunChangeNotifier(const InProcessRunChangeNotifier&) = delete;
  InProcessRunChangeNotifier& operator=(const InProcessRunChangeNotifier&) = delete;

  std::unique_ptr<Subscription> Subscribe(const std::string& run_id, Listener listener) override;
  void Notify(absl::string_view run_id) override;
  void NotifyAll() override;

  // How many runs have at least one subscription (for tests and metrics).
  size_t watched_runs() const;

 private:
  // One subscription's listener. `mu` is held while the listener runs, so
  // that cancelling waits for a call in progress.
  struct Entry {
    explicit Entry(Listener l) : listener(std::move(l)) {}
    absl::Mutex mu;
    Listener listener ABSL_GUARDED_BY(mu);
  };

  void Unsubscribe(const std::string& run_id, const std::shared_ptr<Entry>& entry);
  static void Call(const std::vector<std::shared_ptr<Entry>>& entries);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<Entry>>> listeners_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_IN_PROCESS_RUN_CHANGE_NOTIFIER_H_
