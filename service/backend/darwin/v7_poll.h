// Polling V7 (the processing wait, export readiness): the pause between
// polls, and which failed polls a wait outlives.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_V7_POLL_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_V7_POLL_H_

#include <boost/asio/awaitable.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace labelport::backend::darwin {

// Waits `d` on the calling coroutine's executor (a cancellation of the
// coroutine throws operation_aborted).
boost::asio::awaitable<void> PauseFor(absl::Duration d);

// Whether a wait may poll again after a poll failed with `s` (after the
// client's retries): V7 unreachable or overloaded (UNAVAILABLE,
// DEADLINE_EXCEEDED) may pass before the wait's timeout; a refused key or a
// missing dataset will not.
bool PollMayGoOn(const absl::Status& s);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_V7_POLL_H_
