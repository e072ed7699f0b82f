// WaitUntil: waits for an event a test cannot be notified of directly (a
// row a background thread writes, a counter another thread moves) by
// checking `done` every millisecond until it holds or `timeout` passes.
// Tests wait for events with it, never by sleeping a fixed time: it returns
// as soon as the event happened, and a failure names what did not happen.
//
//   ASSERT_TRUE(WaitUntil([&] { return worker.active_jobs() == 0; },
//                         absl::Seconds(10), "the worker's jobs ended"));
#ifndef LABELPORT_TESTS_UNIT_COMMON_WAIT_UNTIL_H_
#define LABELPORT_TESTS_UNIT_COMMON_WAIT_UNTIL_H_

#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace labelport::testing {

// Success once `done()` returned true; failure naming `what` after `timeout`.
template <typename Predicate>
::testing::AssertionResult WaitUntil(Predicate&& done, absl::Duration timeout,
                                     absl::string_view what) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) {
      return ::testing::AssertionFailure()
             << what << ": did not happen within " << absl::FormatDuration(timeout);
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_COMMON_WAIT_UNTIL_H_
