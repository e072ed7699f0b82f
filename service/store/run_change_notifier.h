// RunChangeNotifier: tells the watchers of a run, in this process, that its
// record may have changed (DESIGN.md §11: progress reaches watchers by
// notification, not by polling).
//
// A notification carries only the run id (RunStore uid): it says "read the
// run again", never what changed, so notifications may be duplicated or
// coalesced freely. Sources: NotifyingRunStore after each record change made
// in this process, and PostgresRunChangeListener for changes made by other
// replicas (and NotifyAll when it may have missed some).
//
// Thread-safety: every method may be called from any thread.
#ifndef LABELPORT_SERVICE_STORE_RUN_CHANGE_NOTIFIER_H_
#define LABELPORT_SERVICE_STORE_RUN_CHANGE_NOTIFIER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace labelport::store {

class RunChangeNotifier {
 public:
  // Called on the notifying thread; must be quick and must not block (it
  // delays the notifier's caller, e.g. a store write). It must not destroy
  // its own subscription.
  using Listener = std::function<void()>;

  // Stops the listener when destroyed: after the destructor returns the
  // listener is not running and is never called again (the destructor
  // waits for a call in progress on another thread).
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };

  virtual ~RunChangeNotifier() = default;

  // Calls `listener` after every later Notify(run_id) and NotifyAll() until
  // the returned subscription is destroyed. A run may have any number of
  // subscriptions.
  virtual std::unique_ptr<Subscription> Subscribe(const std::string& run_id, Listener listener) = 0;

  // The record of run `run_id` changed (updated, renamed or deleted): calls
  // the listeners of that run, and only those, before returning.
  virtual void Notify(absl::string_view run_id) = 0;

  // Any run may have changed (notifications may have been lost): calls every
  // listener once.
  virtual void NotifyAll() = 0;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_CHANGE_NOTIFIER_H_
