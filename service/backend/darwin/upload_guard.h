// UploadGuard: how the upload job's steps call V7 and the journal safely —
// under the lease fence, through store outages and through V7 outages — and
// the job's stop status.
//
//   * Fence / Fenced: every V7 write starts only while the journal's
//     CheckLease is OK, and is abandoned (its coroutine cancelled) when the
//     journal reports the fence closed while it is in flight.
//   * Durably: a journal call is repeated while the store fails
//     transiently; a store outage pauses the job, never fails a sample.
//   * OutageTolerant: a V7 step is repeated after a V7 outage
//     (V7OutageWait).
//   * The first error that stops the job (the fence closed, the run gone)
//     is kept (StopStatus); steps end at their next check of it.
//
// Thread-safety: every method may be called concurrently from coroutines on
// any thread of a multi-threaded io_context. `journal` must outlive the
// guard, and the guard every coroutine it returned.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_GUARD_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_GUARD_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/darwin/v7_outage_wait.h"
#include "service/backend/darwin/v7_poll.h"
#include "service/common/log.h"

namespace labelport::backend::darwin {

class UploadGuard {
 public:
  // `run_uid` names the run in log lines; `outage` is how V7 outages are
  // waited out.
  UploadGuard(UploadJournal& journal, std::string run_uid, V7OutageWait::Options outage,
              V7OutageWait::Probe probe);
  UploadGuard(const UploadGuard&) = delete;
  UploadGuard& operator=(const UploadGuard&) = delete;

  // Stops the job (StopWith) when the lease fence closes, until the
  // returned registration is destroyed: the job's steps end at their next
  // check, writes or not (a wait for V7's processing, say).
  std::unique_ptr<LeaseWatch> StopWhenFenced();

  // The first error that stopped the job (the lease fence, the run gone);
  // OK while it goes on.
  absl::Status StopStatus();
  bool Stopped();
  // Records `s` as the stop status unless one is set; returns `s`.
  absl::Status StopWith(absl::Status s);

  // Before each V7 write: OK while this worker may write for the run;
  // otherwise stops the job.
  absl::Status Fence();

  // Runs the V7 write `call` (V7 calls only) while this worker may write
  // for the run: checks the fence first, and abandons the call when the
  // fence closes while it is in flight (the lease was lost, or may expire
  // before V7 answers, e.g. under retries and backoff). Returns the call's
  // result, or the fence's status (the job stops). T is absl::Status or an
  // absl::StatusOr.
  template <typename T>
  boost::asio::awaitable<T> Fenced(std::function<boost::asio::awaitable<T>()> call);

  // Runs a journal call and repeats it while the store fails (it is down or
  // a transaction conflicted: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
  // INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED), pausing with backoff (100 ms
  // doubling to 5 s), logging once that the upload waits (naming `what`)
  // and once that the store answers again. It stops when the lease fence
  // closes (the outage outlasted the lease: another worker, or this one
  // later, resumes the run) or on any other error (e.g. NOT_FOUND: the run
  // was deleted), which stops the job.
  template <typename T>
  boost::asio::awaitable<T> Durably(absl::string_view what,
                                    std::function<boost::asio::awaitable<T>()> call);

  // Runs `step` (V7 calls whose repetition is safe) and runs it again after
  // a V7 outage (see V7OutageWait); returns its last result. A stopped job
  // does not repeat.
  template <typename T>
  boost::asio::awaitable<T> OutageTolerant(std::function<boost::asio::awaitable<T>()> step);

  V7OutageWait& outage() { return outage_; }

 private:
  static absl::Status StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static absl::Status StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }

  UploadJournal& journal_;
  const std::string run_uid_;
  V7OutageWait outage_;
  absl::Mutex mu_;
  absl::Status stop_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> abandon_logged_{false};
};

// The call runs on a strand of its own, bound to a cancellation signal that
// only that strand emits, when the journal reports the fence closed
// (WatchLease posts there). Not Asio's parallel group or awaitable operators
// (see ParallelFor).
template <typename T>
boost::asio::awaitable<T> UploadGuard::Fenced(std::function<boost::asio::awaitable<T>()> call) {
  if (absl::Status fence = Fence(); !fence.ok()) co_return T(fence);
  struct InFlight {
    boost::asio::cancellation_signal cancel;
    bool finished = false;  // on the strand
    absl::Status closed;    // on the strand: the fence's status once closed
  };
  auto strand = boost::asio::make_strand(co_await boost::asio::this_coro::executor);
  auto in_flight = std::make_shared<InFlight>();
  std::unique_ptr<LeaseWatch> watch =
      journal_.WatchLease([strand, in_flight](const absl::Status& closed) {
        boost::asio::post(strand, [in_flight, closed] {
          if (in_flight->finished || !in_flight->closed.ok()) return;
          in_flight->closed = closed;
          in_flight->cancel.emit(boost::asio::cancellation_type::terminal);
        });
      });
  auto race = [in_flight, call = std::move(call)]() -> boost::asio::awaitable<T> {
    // On the strand, as are the watch's handlers: they never overlap.
    auto guarded = [&call]() -> boost::asio::awaitable<T> {
      try {
        co_return co_await call();
      } catch (const boost::system::system_error& e) {
        // Every co_await after the cancellation throws.
        if (e.code() != boost::asio::error::operation_aborted) throw;
        co_return T(absl::CancelledError("the V7 call was abandoned"));
      }
    };
    T result = T(absl::CancelledError("the V7 call was abandoned"));
    if (in_flight->closed.ok()) {
      result =
          co_await boost::asio::co_spawn(co_await boost::asio::this_coro::executor, guarded(),
                                         boost::asio::bind_cancellation_slot(
                                             in_flight->cancel.slot(), boost::asio::use_awaitable));
    }
    in_flight->finished = true;
    if (!in_flight->closed.ok()) co_return T(in_flight->closed);
    co_return result;
  };
  T result = co_await boost::asio::co_spawn(
      strand, race(),
      boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                          boost::asio::use_awaitable));
  watch.reset();
  // The race has ended on the strand before it completed: `closed` is
  // settled and visible here.
  if (!in_flight->closed.ok()) {
    if (!abandon_logged_.exchange(true))
      common::LogWarning(absl::StrCat(
          "run ", run_uid_, ": V7 calls in flight abandoned: ", in_flight->closed.message()));
    co_return T(StopWith(in_flight->closed));
  }
  co_return result;
}

template <typename T>
boost::asio::awaitable<T> UploadGuard::Durably(absl::string_view what,
                                               std::function<boost::asio::awaitable<T>()> call) {
  absl::Duration backoff = absl::Milliseconds(100);
  for (int attempt = 0;; ++attempt) {
    T result = co_await call();
    const absl::Status status = StatusOf(result);
    if (status.ok()) {
      if (attempt > 0)
        common::LogInfo(absl::StrCat("run ", run_uid_, ": the store answers again (", what, ")"));
      co_return result;
    }
    if (absl::Status lease = Fence(); !lease.ok()) co_return T(lease);
    const auto code = status.code();
    const bool transient =
        code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
        code == absl::StatusCode::kAborted || code == absl::StatusCode::kInternal ||
        code == absl::StatusCode::kUnknown || code == absl::StatusCode::kResourceExhausted;
    if (!transient) {
      (void)StopWith(status);
      co_return result;
    }
    if (attempt == 0)
      common::LogWarning(absl::StrCat("run ", run_uid_, ": cannot ", what, ": ", status.message(),
                                      "; the upload waits for the store"));
    co_await PauseFor(backoff);
    backoff = std::min(absl::Seconds(5), backoff * 2);
  }
}

template <typename T>
boost::asio::awaitable<T> UploadGuard::OutageTolerant(
    std::function<boost::asio::awaitable<T>()> step) {
  for (int repeats = 0;; ++repeats) {
    const absl::Time started = absl::Now();
    T result = co_await step();
    const absl::Status status = StatusOf(result);
    if (status.ok() || Stopped()) co_return result;
    const bool again = co_await outage_.ShouldRetry(status, started, repeats);
    if (!again) co_return result;
  }
}

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_UPLOAD_GUARD_H_
