// InProcessRunChangeNotifier: a notification wakes exactly the listeners of
// its run, NotifyAll wakes every listener once, and a destroyed
// subscription is never called again (its destructor waits for a call in
// progress).
#include "service/store/in_process_run_change_notifier.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace labelport::store {
namespace {

TEST(InProcessRunChangeNotifierTest, NotifyWakesOnlyTheListenersOfThatRun) {
  InProcessRunChangeNotifier notifier;
  int a1 = 0, a2 = 0, b = 0;
  auto sub_a1 = notifier.Subscribe("run-a", [&] { ++a1; });
  auto sub_a2 = notifier.Subscribe("run-a", [&] { ++a2; });
  auto sub_b = notifier.Subscribe("run-b", [&] { ++b; });

  notifier.Notify("run-a");
  EXPECT_EQ(a1, 1);
  EXPECT_EQ(a2, 1);
  EXPECT_EQ(b, 0);

  notifier.Notify("run-b");
  notifier.Notify("run-c");  // nobody watches it
  EXPECT_EQ(a1, 1);
  EXPECT_EQ(b, 1);
}

TEST(InProcessRunChangeNotifierTest, NotifyAllWakesEveryListenerOnce) {
  InProcessRunChangeNotifier notifier;
  int a = 0, b1 = 0, b2 = 0;
  auto sub_a = notifier.Subscribe("run-a", [&] { ++a; });
  auto sub_b1 = notifier.Subscribe("run-b", [&] { ++b1; });
  auto sub_b2 = notifier.Subscribe("run-b", [&] { ++b2; });

  notifier.NotifyAll();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b1, 1);
  EXPECT_EQ(b2, 1);
}

TEST(InProcessRunChangeNotifierTest, ADestroyedSubscriptionIsNeverCalledAgain) {
  InProcessRunChangeNotifier notifier;
  int kept = 0, dropped = 0;
  auto keep = notifier.Subscribe("run-a", [&] { ++kept; });
  auto drop = notifier.Subscribe("run-a", [&] { ++dropped; });
  auto other = notifier.Subscribe("run-b", [] {});
  EXPECT_EQ(notifier.watched_runs(), 2u);

  drop.reset();
  notifier.Notify("run-a");
  notifier.NotifyAll();
  EXPECT_EQ(kept, 2);
  EXPECT_EQ(dropped, 0);

  keep.reset();
  other.reset();
  EXPECT_EQ(notifier.watched_runs(), 0u);
  notifier.Notify("run-a");
  EXPECT_EQ(kept, 2);
}

TEST(InProcessRunChangeNotifierTest, DestroyingASubscriptionWaitsForItsListenerInProgress) {
  InProcessRunChangeNotifier notifier;
  absl::Notification entered, release;
  std::atomic<bool> listener_returned{false};
  auto subscription = notifier.Subscribe("run-a", [&] {
    entered.Notify();
    release.WaitForNotification();
    listener_returned = true;
  });
  std::thread notifying([&] { notifier.Notify("run-a"); });
  entered.WaitForNotification();

  std::atomic<bool> destroyed{false};
  std::thread destroying([&] {
    subscription.reset();
    destroyed = true;
    // The listener's call had ended before the destructor returned.
    EXPECT_TRUE(listener_returned.load());
  });
  release.Notify();
  destroying.join();
  notifying.join();
  EXPECT_TRUE(destroyed.load());
}

TEST(InProcessRunChangeNotifierTest, ListenersMaySubscribeAndNotifyOtherRuns) {
  InProcessRunChangeNotifier notifier;
  int b = 0;
  std::unique_ptr<RunChangeNotifier::Subscription> late;
  auto sub_b = notifier.Subscribe("run-b", [&] { ++b; });
  auto sub_a = notifier.Subscribe("run-a", [&] {
    if (late == nullptr) late = notifier.Subscribe("run-c", [] {});
    notifier.Notify("run-b");
  });

  notifier.Notify("run-a");
  EXPECT_EQ(b, 1);
  EXPECT_EQ(notifier.watched_runs(), 3u);
}

TEST(InProcessRunChangeNotifierTest, ConcurrentSubscribersAndNotifiersAgree) {
  InProcessRunChangeNotifier notifier;
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto subscription = notifier.Subscribe("shared", [&] { ++calls; });
        notifier.Notify(t % 2 == 0 ? "shared" : "elsewhere");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Each even thread's own notification reached at least its own listener.
  EXPECT_GE(calls.load(), kThreads / 2 * kRounds);
  EXPECT_EQ(notifier.watched_runs(), 0u);
}

}  // namespace
}  // namespace labelport::store
