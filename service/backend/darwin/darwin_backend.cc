#include "service/backend/darwin/darwin_backend.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "service/backend/darwin/annotation_decoder.h"
#include "service/backend/darwin/annotation_encoder.h"
#include "service/backend/darwin/darwin_json.h"
#include "service/backend/darwin/darwin_run_state.h"
#include "service/backend/darwin/export_archive.h"
#include "service/backend/darwin/field_labels.h"
#include "service/backend/darwin/media_source.h"
#include "service/backend/darwin/skeleton.h"
#include "service/backend/darwin/v7_outage_wait.h"
#include "service/common/cpu_pool.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/media_roots.h"
#include "service/common/ordered_parallel_map.h"
#include "service/common/parallel_for.h"

namespace labelport::backend::darwin {
namespace {

// A name for a new export of the run `uid`, unique within its dataset (V7
// refuses a duplicate with 422): concurrent loads of one run, on one replica
// or several, start in the same millisecond, so the time is not enough.
std::string ExportName(absl::string_view uid) {
  // Seeded from the operating system's entropy (per thread).
  thread_local absl::BitGen bits;
  const uint32_t nonce = absl::Uniform<uint32_t>(bits);
  return absl::StrCat("labelport-", uid.substr(0, 12), "-", absl::ToUnixMillis(absl::Now()), "-",
                      absl::Hex(nonce, absl::kZeroPad8));
}

namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;
using labelport::internal::v1::DarwinRunState;
using labelport::internal::v1::SampleProgress;
using labelport::internal::v1::SampleStep;

// While uploads are still running, V7 is asked about processing only once
// this many uploaded items wait (or poll_max has passed since the last ask),
// so the overlap with the uploads costs few calls.
constexpr size_t kPollBatchWhileUploading = 100;

// Removes a file when it goes out of scope.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() { std::remove(path_.c_str()); }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  const std::string path_;
};

boost::asio::awaitable<void> PauseFor(absl::Duration d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(absl::ToChronoMilliseconds(d));
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// Whether a wait may poll again after a poll failed with `s` (after the
// client's retries): V7 unreachable or overloaded may pass before the wait's
// timeout; a refused key or a missing dataset will not.
bool PollMayGoOn(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// A folder segment made only of safe characters (others hex-escaped).
std::string SafeSegment(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += c;
    } else {
      absl::StrAppend(&out, "~", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

bool IsProcessedStatus(absl::string_view status) {
  return status == "new" || status == "annotate" || status == "review" || status == "complete" ||
         status == "archived";
}

bool IsErrorStatus(absl::string_view status) {
  return status == "error" || status == "errored" || status == "failed";
}

bool HasLabels(const v1::Sample& sample) {
  for (const auto& f : sample.fields()) {
    if (f.value().value_case() != v1::FieldValue::VALUE_NOT_SET) return true;
    for (const auto& fr : f.frames())
      if (fr.value().value_case() != v1::FieldValue::VALUE_NOT_SET) return true;
  }
  return false;
}

std::string ClassKeyString(const std::string& name, const std::string& type) {
  return absl::StrCat(name, "|", type);
}

// How much of a run the upload job reads from the journal at once (samples
// and their progress records; a multiple of the registration batch).
constexpr int kWindow = 2000;

// The hash of a V7 item id in the job's index (0: no item).
uint64_t ItemHash(absl::string_view item_id) {
  if (item_id.empty()) return 0;
  const uint64_t h = absl::Hash<absl::string_view>{}(item_id);
  return h == 0 ? 1 : h;
}

// Calls `each` with every page of the run's progress records (at most
// kWindow records each), in position order; stops at its first error.
boost::asio::awaitable<absl::Status> ForEachProgressPage(
    UploadJournal& journal, std::function<absl::Status(const std::vector<SampleProgress>&)> each) {
  const int64_t samples = journal.run().progress().samples_total();
  for (int64_t start = 0;; start += kWindow) {
    auto page = co_await journal.LoadProgress(start, kWindow);
    if (!page.ok()) co_return page.status();
    if (page->empty() && start >= samples) co_return absl::OkStatus();
    absl::Status s = each(*page);
    if (!s.ok()) co_return s;
  }
}

// The state of one run's upload; lives for one UploadRun call.
//
// Memory does not grow with the run beyond a compact index: the job keeps
// 9 bytes per sample (a byte for its step and flags, 8 for a hash of its V7
// item id) and reads samples and progress records from the journal when it
// needs them, in windows of at most kWindow (one at a time for an upload or
// an import). While it waits for V7's processing it also holds 4 bytes per
// waiting item during a poll of the whole dataset (which is read page by
// page), and 8 bytes per processed sample queued for its label import.
class UploadJob {
 public:
  UploadJob(DarwinClient* client, http::HttpClient* http, const DarwinBackend::Options& options,
            UploadJournal& journal)
      : client_(client),
        http_(http),
        options_(options),
        journal_(journal),
        run_(journal.run()),
        outage_([client] { return client->CheckAccess(); },
                {.initial_backoff = options.outage_initial_backoff,
                 .max_backoff = options.outage_max_backoff,
                 .max_wait = options.outage_max_wait,
                 .log_name = absl::StrCat("run ", run_.name(), " (", run_.uid(), ")")}) {}

  boost::asio::awaitable<absl::Status> Run() {
    // A closed fence stops the job at its next step, writes or not (a wait
    // for V7's processing, say); V7 writes in flight are abandoned (Fenced).
    std::unique_ptr<LeaseWatch> stop_when_fenced =
        journal_.WatchLease([this](const absl::Status& closed) { (void)StopWith(closed); });
    absl::Status s = co_await Durably<absl::Status>("load the run's state from the store",
                                                    [this] { return LoadState(); });
    if (!s.ok()) co_return s;
    s = co_await OutageTolerant<absl::Status>([this] { return ResolveDataset(); });
    if (!s.ok()) co_return s;
    s = co_await OutageTolerant<absl::Status>([this] { return Register(); });
    if (!s.ok()) co_return s;
    s = co_await OutageTolerant<absl::Status>([this] { return RefreshResumed(); });
    if (!s.ok()) co_return s;
    // Uploads run alongside the processing wait and the imports: a sample's
    // labels are imported as soon as V7 has processed its item (and the
    // classes exist), not after every item is processed.
    // Both run to the end side by side. Not Asio's awaitable operator&&: its
    // parallel group can write into this coroutine's cancellation slot after
    // it resumed (a SIGSEGV seen under load), the bug ParallelFor avoids.
    absl::Status imported;
    co_await common::ParallelFor(2, 2, [&](size_t i) -> boost::asio::awaitable<void> {
      if (i == 0) {
        co_await UploadAll();
      } else {
        imported = co_await ProcessAndImport();
      }
    });
    s = imported;
    // A job stopped by the fence or the store reports that, not what the
    // steps that noticed it returned.
    if (absl::Status stopped = StopStatus(); !stopped.ok()) co_return stopped;
    co_return s;
  }

 private:
  // ---- the index ----------------------------------------------------------

  // An index entry: the sample's step in the low bits, and flags.
  static constexpr uint8_t kStepMask = 0x07;
  // Had a record when the job began (or V7 said its item existed already):
  // its last step may not have been recorded, RefreshResumed re-reads it.
  static constexpr uint8_t kResumed = 0x08;
  // The sample has labels to import.
  static constexpr uint8_t kHasLabels = 0x10;
  static_assert(labelport::internal::v1::SampleStep_MAX <= kStepMask);

  int64_t SampleCount() {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(index_.size());
  }
  SampleStep StepAt(int64_t i) {
    absl::MutexLock lock(&mu_);
    return static_cast<SampleStep>(index_[i] & kStepMask);
  }
  bool HasLabelsAt(int64_t i) {
    absl::MutexLock lock(&mu_);
    return (index_[i] & kHasLabels) != 0;
  }
  // Records in the index what a saved record says (its step and item).
  void Index(const SampleProgress& p) {
    absl::MutexLock lock(&mu_);
    const int64_t i = p.position();
    index_[i] = static_cast<uint8_t>((index_[i] & ~kStepMask) | (p.step() & kStepMask));
    item_hash_[i] = ItemHash(p.item_id());
  }
  void SetFlag(int64_t i, uint8_t flag) {
    absl::MutexLock lock(&mu_);
    index_[i] |= flag;
  }
  void ClearFlagEverywhere(uint8_t flag) {
    absl::MutexLock lock(&mu_);
    for (uint8_t& entry : index_) entry &= static_cast<uint8_t>(~flag);
  }
  size_t CountAt(SampleStep step) {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (uint8_t entry : index_) n += (entry & kStepMask) == step ? 1 : 0;
    return n;
  }
  // The positions in [from, to) at `step` that have every bit of `flags`,
  // ascending, at most `max`.
  std::vector<int64_t> PositionsAt(SampleStep step, int64_t from, int64_t to, size_t max,
                                   uint8_t flags = 0) {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    to = std::min(to, static_cast<int64_t>(index_.size()));
    for (int64_t i = from; i < to && out.size() < max; ++i) {
      if ((index_[i] & kStepMask) == step && (index_[i] & flags) == flags) out.push_back(i);
    }
    return out;
  }
  // The first position at or after *cursor at `step` (moving the cursor
  // past it); nullopt when none is left.
  std::optional<int64_t> NextAt(SampleStep step, int64_t* cursor) {
    absl::MutexLock lock(&mu_);
    for (int64_t i = *cursor; i < static_cast<int64_t>(index_.size()); ++i) {
      if ((index_[i] & kStepMask) != step) continue;
      *cursor = i + 1;
      return i;
    }
    *cursor = static_cast<int64_t>(index_.size());
    return std::nullopt;
  }

  // A stored record as this job sees it: a FAILED record of an earlier job
  // that this one retries (see LoadState) reads as the step it is retried
  // from, with one more attempt and no error.
  SampleProgress Current(SampleProgress p) {
    const SampleStep step = StepAt(p.position());
    if (p.step() != labelport::internal::v1::SAMPLE_STEP_FAILED ||
        step == labelport::internal::v1::SAMPLE_STEP_FAILED)
      return p;
    p.set_attempts(p.attempts() + 1);
    p.set_step(step);
    p.clear_error_stage();
    p.clear_error_message();
    return p;
  }

  // ---- journal reads and writes and the lease fence -----------------------

  // The first error that stopped the job (the lease fence, the run gone);
  // OK while it goes on.
  absl::Status StopStatus() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }
  bool Stopped() { return !StopStatus().ok(); }
  absl::Status StopWith(absl::Status s) {
    absl::MutexLock lock(&mu_);
    if (stop_.ok()) stop_ = s;
    return s;
  }

  // Before each V7 write: OK while this worker may write for the run;
  // otherwise stops the job (its steps end at their next check).
  absl::Status Fence() {
    if (absl::Status stopped = StopStatus(); !stopped.ok()) return stopped;
    absl::Status lease = journal_.CheckLease();
    if (!lease.ok()) return StopWith(lease);
    return absl::OkStatus();
  }

  // Runs the V7 write `call` (V7 calls only) while this worker may write
  // for the run: checks the fence first, and abandons the call when the
  // fence closes while it is in flight (the lease was lost, or may expire
  // before V7 answers, e.g. under retries and backoff). Returns the call's
  // result, or the fence's status (the job stops). The call runs on a strand
  // of its own, bound to a cancellation signal that only that strand emits,
  // when the journal reports the fence closed (WatchLease posts there). Not
  // Asio's parallel group or awaitable operators (see ParallelFor).
  template <typename T>
  boost::asio::awaitable<T> Fenced(std::function<boost::asio::awaitable<T>()> call) {
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
        result = co_await boost::asio::co_spawn(
            co_await boost::asio::this_coro::executor, guarded(),
            boost::asio::bind_cancellation_slot(in_flight->cancel.slot(),
                                                boost::asio::use_awaitable));
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
            "run ", run_.uid(), ": V7 calls in flight abandoned: ", in_flight->closed.message()));
      co_return T(StopWith(in_flight->closed));
    }
    co_return result;
  }

  // Runs a journal call and repeats it while the store fails (it is down or
  // a transaction conflicted: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
  // INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED), pausing with backoff (100 ms
  // doubling to 5 s): a store outage pauses the job and never fails a sample
  // or the run. It stops when the lease fence closes (the outage outlasted
  // the lease: another worker, or this one later, resumes the run) or on any
  // other error (e.g. NOT_FOUND: the run was deleted), which stops the job.
  template <typename T>
  boost::asio::awaitable<T> Durably(absl::string_view what,
                                    std::function<boost::asio::awaitable<T>()> call) {
    absl::Duration backoff = absl::Milliseconds(100);
    for (int attempt = 0;; ++attempt) {
      T result = co_await call();
      const absl::Status status = StatusOf(result);
      if (status.ok()) {
        if (attempt > 0)
          common::LogInfo(
              absl::StrCat("run ", run_.uid(), ": the store answers again (", what, ")"));
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
        common::LogWarning(absl::StrCat("run ", run_.uid(), ": cannot ", what, ": ",
                                        status.message(), "; the upload waits for the store"));
      co_await PauseFor(backoff);
      backoff = std::min(absl::Seconds(5), backoff * 2);
    }
  }

  // Samples [start, start + count) and their records (as Current; made up
  // for samples never saved), read durably.
  struct Window {
    int64_t start = 0;
    std::vector<v1::Sample> samples;
    std::vector<SampleProgress> records;  // one per sample
  };
  boost::asio::awaitable<absl::StatusOr<Window>> LoadWindow(int64_t start, int count) {
    co_return co_await Durably<absl::StatusOr<Window>>(
        "read samples and their progress",
        [this, start, count]() -> boost::asio::awaitable<absl::StatusOr<Window>> {
          Window w;
          w.start = start;
          auto samples = co_await journal_.LoadSamples(start, count);
          if (!samples.ok()) co_return samples.status();
          auto records = co_await journal_.LoadProgress(start, count);
          if (!records.ok()) co_return records.status();
          w.records.resize(samples->size());
          for (size_t k = 0; k < samples->size(); ++k) {
            w.records[k].set_position(start + static_cast<int64_t>(k));
            w.records[k].set_sample_id((*samples)[k].id());
          }
          for (auto& p : *records) {
            const int64_t k = p.position() - start;
            if (k < 0 || k >= static_cast<int64_t>(w.records.size())) continue;
            w.records[k] = Current(std::move(p));
          }
          w.samples = *std::move(samples);
          co_return w;
        });
  }

  // The records (as Current) at `positions` (ascending), read durably in
  // ranges of at most kWindow positions.
  boost::asio::awaitable<absl::StatusOr<std::vector<SampleProgress>>> FetchRecords(
      const std::vector<int64_t>& positions) {
    using Records = std::vector<SampleProgress>;
    co_return co_await Durably<absl::StatusOr<Records>>(
        "read progress records",
        [this, &positions]() -> boost::asio::awaitable<absl::StatusOr<Records>> {
          Records out(positions.size());
          size_t k = 0;
          while (k < positions.size()) {
            // One range read per run of positions no further than kGap
            // apart (scattered positions: a read each, never a whole window
            // for one record).
            constexpr int64_t kGap = 32;
            const int64_t start = positions[k];
            size_t last = k;
            while (last + 1 < positions.size() && positions[last + 1] - positions[last] <= kGap &&
                   positions[last + 1] - start < kWindow)
              ++last;
            const int count = static_cast<int>(positions[last] - start + 1);
            auto records = co_await journal_.LoadProgress(start, count);
            if (!records.ok()) co_return records.status();
            size_t r = 0;
            for (; k < positions.size() && positions[k] < start + count; ++k) {
              while (r < records->size() && (*records)[r].position() < positions[k]) ++r;
              if (r < records->size() && (*records)[r].position() == positions[k]) {
                out[k] = Current((*records)[r]);
                continue;
              }
              // Never saved (not expected past registration): made up.
              auto sample = co_await journal_.LoadSamples(positions[k], 1);
              if (!sample.ok()) co_return sample.status();
              out[k].set_position(positions[k]);
              if (!sample->empty()) out[k].set_sample_id(sample->front().id());
            }
          }
          co_return out;
        });
  }

  boost::asio::awaitable<absl::Status> SaveRecords(std::vector<SampleProgress> records) {
    if (records.empty()) co_return absl::OkStatus();
    co_return co_await Durably<absl::Status>("save sample progress",
                                             [&] { return journal_.SaveProgress(records); });
  }

  // Saves records durably (see Durably), then records them in the index.
  boost::asio::awaitable<absl::Status> SaveAndIndex(std::vector<SampleProgress> records) {
    absl::Status s = co_await SaveRecords(records);
    if (!s.ok()) co_return s;
    for (const SampleProgress& p : records) Index(p);
    co_return absl::OkStatus();
  }

  // Saves one record durably, grouped with the records other steps save at
  // the same time (an upload's UPLOADED record, an import's LABELS_IMPORTED
  // one): the first caller writes, one SaveProgress a round, every record
  // queued until none is left; the others wait for the round that carried
  // theirs. So concurrent uploads and imports share store transactions.
  boost::asio::awaitable<absl::Status> SaveGrouped(SampleProgress record) {
    auto done = std::make_shared<SaveDone>(co_await boost::asio::this_coro::executor, 1);
    bool lead = false;
    {
      absl::MutexLock lock(&group_mu_);
      group_.push_back({std::move(record), done});
      lead = !group_writing_;
      group_writing_ = true;
    }
    if (lead) co_await WriteGroups();
    absl::Status status = co_await done->async_receive(boost::asio::use_awaitable);
    co_return status;
  }

  boost::asio::awaitable<void> WriteGroups() {
    while (true) {
      std::vector<GroupedSave> round;
      {
        absl::MutexLock lock(&group_mu_);
        if (group_.empty()) {
          group_writing_ = false;
          co_return;
        }
        round.swap(group_);
      }
      std::vector<SampleProgress> records;
      records.reserve(round.size());
      for (const GroupedSave& g : round) records.push_back(g.record);
      absl::Status s = co_await SaveRecords(std::move(records));
      for (const GroupedSave& g : round) (void)g.done->try_send(boost::system::error_code{}, s);
    }
  }

  // Runs `step` (V7 calls whose repetition is safe) and runs it again after
  // a V7 outage (see V7OutageWait); returns its last result.
  template <typename T>
  boost::asio::awaitable<T> OutageTolerant(std::function<boost::asio::awaitable<T>()> step) {
    for (int repeats = 0;; ++repeats) {
      const absl::Time started = absl::Now();
      T result = co_await step();
      const absl::Status status = StatusOf(result);
      if (status.ok() || Stopped()) co_return result;
      const bool again = co_await outage_.ShouldRetry(status, started, repeats);
      if (!again) co_return result;
    }
  }

  // ---- state ----------------------------------------------------------

  // Reads the run once, window by window, into the index (and the classes
  // its labels use). May be repeated (the store failed): starts afresh.
  // A resume retries failed samples from the step before the failure.
  boost::asio::awaitable<absl::Status> LoadState() {
    {
      // Sized once (a grown vector could hold twice the bytes).
      absl::MutexLock lock(&mu_);
      index_.clear();
      item_hash_.clear();
      index_.reserve(run_.progress().samples_total());
      item_hash_.reserve(run_.progress().samples_total());
    }
    sample_classes_.clear();
    for (int64_t start = 0;; start += kWindow) {
      auto samples = co_await journal_.LoadSamples(start, kWindow);
      if (!samples.ok()) co_return samples.status();
      auto records = co_await journal_.LoadProgress(start, kWindow);
      if (!records.ok()) co_return records.status();
      {
        absl::MutexLock lock(&mu_);
        index_.resize(start + samples->size(), 0);
        item_hash_.resize(index_.size(), 0);
        for (size_t k = 0; k < samples->size(); ++k)
          if (HasLabels((*samples)[k])) index_[start + k] |= kHasLabels;
        for (const SampleProgress& p : *records) {
          const int64_t i = p.position();
          if (i < start || i >= static_cast<int64_t>(index_.size())) continue;
          SampleStep step = p.step();
          if (step == labelport::internal::v1::SAMPLE_STEP_FAILED) {
            if (p.item_id().empty()) {
              step = labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED;
            } else if (p.error_stage() == "import_labels") {
              step = labelport::internal::v1::SAMPLE_STEP_PROCESSED;
            } else {
              step = labelport::internal::v1::SAMPLE_STEP_REGISTERED;
            }
          }
          index_[i] = static_cast<uint8_t>((index_[i] & kHasLabels) | kResumed | step);
          item_hash_[i] = ItemHash(p.item_id());
        }
      }
      for (const v1::Sample& sample : *samples) AddSampleClasses(sample);
      if (static_cast<int>(samples->size()) < kWindow) break;
    }
    auto state = co_await LoadDarwinRunState(journal_);
    if (!state.ok()) co_return state.status();
    state_ = *std::move(state);
    co_return absl::OkStatus();
  }

  // Fails a sample: records the failure (an error of the save stopped the
  // job: StopStatus).
  boost::asio::awaitable<void> Fail(SampleProgress record, absl::string_view stage,
                                    absl::string_view message) {
    record.set_step(labelport::internal::v1::SAMPLE_STEP_FAILED);
    record.set_error_stage(std::string(stage));
    record.set_error_message(std::string(message));
    common::LogWarning(absl::StrCat("run ", run_.uid(), " sample '", record.sample_id(),
                                    "' failed at ", stage, ": ", message));
    std::vector<SampleProgress> records;
    records.push_back(std::move(record));
    (void)co_await SaveAndIndex(std::move(records));
  }

  // ---- 1. dataset -------------------------------------------------------

  boost::asio::awaitable<absl::Status> ResolveDataset() {
    auto team = co_await client_->TeamSlug();
    if (!team.ok()) co_return team.status();
    if (state_.dataset_id() == 0) {
      const std::string slug = run_.darwin().dataset_slug();
      // Listed once: a repetition after an outage must not find the dataset
      // that a lost create made and take it for the user's.
      if (!dataset_existed_.has_value()) {
        auto datasets = co_await client_->ListDatasets();
        if (!datasets.ok()) co_return datasets.status();
        bool existed = false;
        for (const auto& d : *datasets) existed = existed || d.slug == slug;
        dataset_existed_ = existed;
      }
      auto dataset = co_await Fenced<absl::StatusOr<DarwinDataset>>(
          [&] { return client_->GetOrCreateDataset(slug); });
      if (!dataset.ok()) co_return dataset.status();
      state_.set_team_slug(*team);
      state_.set_dataset_id(dataset->id);
      state_.set_dataset_created(!*dataset_existed_);
      absl::Status s = co_await SaveState();
      if (!s.ok()) co_return s;
    }
    const std::string url = client_->EditorUrl(state_.dataset_id());
    co_return co_await Durably<absl::Status>("record the editor URL",
                                             [&] { return journal_.SetEditorUrl(url); });
  }

  boost::asio::awaitable<absl::Status> SaveState() {
    co_return co_await Durably<absl::Status>(
        "save the run's V7 state", [this] { return SaveDarwinRunState(journal_, state_); });
  }

  // ---- 2. registration --------------------------------------------------

  ItemRegistration RegistrationOf(const v1::Sample& s) const {
    ItemRegistration r;
    r.name = MediaFileName(s.media());
    r.file_name = r.name;
    r.path = absl::StrCat("/", run_.uid().substr(0, 12), "/", SafeSegment(s.id()));
    r.type = s.media_type() == v1::MEDIA_TYPE_VIDEO ? "video" : "image";
    if (s.media().has_storage()) r.storage_key = s.media().storage().storage_key();
    return r;
  }

  std::string StorageSlugOf(const v1::Sample& s) const {
    const auto& m = s.media();
    return m.storage().storage_slug().empty() ? run_.darwin().external_storage()
                                              : m.storage().storage_slug();
  }

  // Registers the samples not yet registered, a window at a time.
  boost::asio::awaitable<absl::Status> Register() {
    const int64_t n = SampleCount();
    for (int64_t start = 0; start < n; start += kWindow) {
      if (PositionsAt(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED, start, start + kWindow, 1)
              .empty())
        continue;
      auto window = co_await LoadWindow(start, kWindow);
      if (!window.ok()) co_return window.status();
      absl::Status s = co_await RegisterWindow(*window);
      if (!s.ok()) co_return s;
    }
    co_return absl::OkStatus();
  }

  boost::asio::awaitable<absl::Status> RegisterWindow(Window& w) {
    // Fails the samples whose server path the tenant may not read (the
    // upload would refuse them), so that V7 never gets an item for them.
    // Other errors (a missing file) are left to the upload.
    std::vector<size_t> todo;
    for (size_t k = 0; k < w.samples.size(); ++k) {
      if (StepAt(w.start + static_cast<int64_t>(k)) !=
          labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED)
        continue;
      const v1::MediaReference& media = w.samples[k].media();
      if (media.has_path()) {
        auto opened = common::OpenMediaPath(media.path(), options_.media_paths);
        if (!opened.ok() &&
            common::ErrorReason(opened.status()) == common::kMediaPathNotAllowedReason) {
          co_await Fail(w.records[k], "upload", opened.status().message());
          continue;
        }
      }
      todo.push_back(k);
    }
    if (absl::Status stopped = StopStatus(); !stopped.ok()) co_return stopped;
    // Group by kind (uploads vs each storage slug), then batch.
    std::map<std::string, std::vector<size_t>> groups;
    for (size_t k : todo) {
      const v1::Sample& sample = w.samples[k];
      const std::string key =
          sample.media().has_storage() ? absl::StrCat("storage:", StorageSlugOf(sample)) : "";
      groups[key].push_back(k);
    }
    for (auto& [key, members] : groups) {
      const bool storage = !key.empty();
      for (size_t b = 0; b < members.size(); b += options_.register_batch_size) {
        const size_t e = std::min(members.size(), b + options_.register_batch_size);
        std::vector<ItemRegistration> items;
        for (size_t m = b; m < e; ++m) items.push_back(RegistrationOf(w.samples[members[m]]));
        // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
        // A lost answer is retried by the client: registering again answers
        // ALREADY_EXISTS with the ids of what the lost attempt registered
        // (handled below).
        absl::StatusOr<std::vector<RegisteredItem>> result;
        if (storage) {
          // (A structured binding is not captured: clang 14 refuses it.)
          const std::string storage_slug = StorageSlugOf(w.samples[members[b]]);
          result = co_await Fenced<absl::StatusOr<std::vector<RegisteredItem>>>([&] {
            return client_->RegisterExisting(run_.darwin().dataset_slug(), storage_slug, items);
          });
        } else {
          result = co_await Fenced<absl::StatusOr<std::vector<RegisteredItem>>>(
              [&] { return client_->RegisterUpload(run_.darwin().dataset_slug(), items); });
        }
        if (!result.ok()) co_return result.status();
        if (result->size() != e - b)
          co_return absl::InternalError(absl::StrFormat(
              "V7 registration answered %d items for %d sent", result->size(), e - b));
        std::vector<SampleProgress> saved;
        std::vector<int64_t> resumed;
        for (size_t m = b; m < e; ++m) {
          SampleProgress& p = w.records[members[m]];
          const RegisteredItem& item = (*result)[m - b];
          p.set_item_id(item.item_id);
          if (item.blocked_reason.empty()) {
            p.set_upload_id(item.upload_id);
            p.set_step(storage ? labelport::internal::v1::SAMPLE_STEP_UPLOADED
                               : labelport::internal::v1::SAMPLE_STEP_REGISTERED);
          } else if (absl::EqualsIgnoreCase(item.blocked_reason, "ALREADY_EXISTS") &&
                     !item.item_id.empty()) {
            // Registered before a crash: the item is ours (its folder is the
            // run's); its state is re-read from V7 below.
            p.set_step(labelport::internal::v1::SAMPLE_STEP_REGISTERED);
            resumed.push_back(p.position());
          } else {
            p.set_step(labelport::internal::v1::SAMPLE_STEP_FAILED);
            p.set_error_stage("register");
            p.set_error_message(
                absl::StrCat("V7 refused the item '", item.name, "': ", item.blocked_reason));
          }
          saved.push_back(p);
        }
        absl::Status s = co_await SaveAndIndex(std::move(saved));
        if (!s.ok()) co_return s;
        for (int64_t i : resumed) SetFlag(i, kResumed);
      }
    }
    co_return absl::OkStatus();
  }

  // Items whose last step may not have been recorded (a crash between V7's
  // answer and the journal) are re-read from V7, kWindow at a time.
  boost::asio::awaitable<absl::Status> RefreshResumed() {
    const int64_t n = SampleCount();
    for (int64_t from = 0; from < n;) {
      const std::vector<int64_t> check =
          PositionsAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED, from, n, kWindow, kResumed);
      if (check.empty()) break;
      from = check.back() + 1;
      auto records = co_await FetchRecords(check);
      if (!records.ok()) co_return records.status();
      std::vector<std::string> ids;
      ids.reserve(records->size());
      for (const SampleProgress& p : *records) ids.push_back(p.item_id());
      auto items = co_await client_->ListItems(state_.dataset_id(), ids);
      if (!items.ok()) co_return items.status();
      std::map<std::string, const DarwinItem*> by_id;
      for (const auto& item : *items) by_id[item.id] = &item;
      std::vector<std::string> orphans;
      for (SampleProgress& p : *records) {
        auto it = by_id.find(p.item_id());
        if (it == by_id.end()) {
          // The item vanished (deleted in V7): register it again.
          p.set_step(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED);
          p.clear_item_id();
          p.clear_upload_id();
        } else if (it->second->status == "uploading") {
          if (!it->second->pending_upload_ids.empty()) {
            p.set_upload_id(it->second->pending_upload_ids.front());
          } else if (p.upload_id().empty()) {
            // Registered, but V7's answer (and so the upload id) was lost: the
            // item can never receive its bytes. It is deleted and registered
            // again (it is ours: its folder is the run's).
            orphans.push_back(p.item_id());
            p.set_step(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED);
            p.clear_item_id();
            p.clear_upload_id();
          }
        } else {
          p.set_step(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
        }
      }
      if (!orphans.empty()) {
        absl::Status deleted = co_await Fenced<absl::Status>(
            [&] { return client_->DeleteItems(state_.dataset_id(), orphans); });
        if (!deleted.ok()) co_return deleted;
      }
      absl::Status s = co_await SaveAndIndex(*std::move(records));
      if (!s.ok()) co_return s;
    }
    // Anything reset to UNSPECIFIED is registered again.
    if (!PositionsAt(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED, 0, n, 1).empty()) {
      ClearFlagEverywhere(kResumed);
      co_return co_await Register();
    }
    co_return absl::OkStatus();
  }

  // ---- 3. upload --------------------------------------------------------

  // Uploads every registered sample (the workers take them in position
  // order, reading each sample and record when they start on it), then tells
  // the processing wait that no more items will become UPLOADED.
  boost::asio::awaitable<void> UploadAll() {
    const size_t todo = CountAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED);
    int64_t cursor = 0;  // guarded by mu_ (NextAt)
    co_await common::ParallelFor(
        todo, options_.upload_concurrency, [&](size_t) -> boost::asio::awaitable<void> {
          const std::optional<int64_t> i =
              NextAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED, &cursor);
          if (i.has_value()) co_await UploadOne(*i);
        });
    uploads_done_.store(true);
  }

  boost::asio::awaitable<void> UploadOne(int64_t i) {
    if (Stopped()) co_return;
    auto window = co_await LoadWindow(i, 1);
    if (!window.ok() || window->samples.empty()) co_return;  // the job stopped
    const v1::Sample& sample = window->samples.front();
    SampleProgress record = window->records.front();
    auto media = co_await OpenMedia(sample.media(), *http_, options_.media_dir, options_.temp_dir,
                                    absl::Now() + options_.media_fetch_timeout,
                                    options_.media_paths, options_.media_fetch);
    if (!media.ok()) {
      co_await Fail(record, "upload", media.status().message());
      co_return;
    }
    const std::string upload_id = record.upload_id();
    // Sign, PUT, confirm (the client retries each call); a call that exhausts
    // its retries fails the sample, unless V7 is down: then the upload waits.
    const MediaSource& source = **media;
    absl::Status s =
        co_await OutageTolerant<absl::Status>([&]() -> boost::asio::awaitable<absl::Status> {
          // Sign, PUT and confirm only while this worker holds the lease.
          co_return co_await Fenced<absl::Status>([&] {
            return client_->Upload(upload_id, source.body_factory(), source.size_bytes());
          });
        });
    if (Stopped()) co_return;
    if (!s.ok()) {
      co_await Fail(record, "upload", s.message());
      co_return;
    }
    // Recorded before the step is visible to the processing wait (which runs
    // meanwhile), so the wait's PROCESSED record is always written after it.
    record.set_step(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
    absl::Status saved = co_await SaveGrouped(record);
    if (!saved.ok()) co_return;  // the job stopped
    Index(record);
  }

  // ---- 4. processing ----------------------------------------------------

  // Polls V7 until every UPLOADED item is processed (or failed), while the
  // uploads still run and after. Each processed item is recorded before its
  // import is queued; samples without labels are recorded as imported. The
  // processing timeout counts from the end of the uploads.
  boost::asio::awaitable<absl::Status> WaitForProcessing() {
    std::optional<absl::Time> deadline;
    // V7's down time when the deadline was set: time V7 is down later
    // extends it.
    absl::Duration down_before_deadline;
    absl::Duration delay = options_.poll_initial;
    absl::Time last_poll = absl::InfinitePast();
    absl::Status last_poll_error;
    while (true) {
      if (absl::Status stopped = StopStatus(); !stopped.ok()) co_return stopped;
      const bool uploading = !uploads_done_.load();
      const size_t waiting = CountAt(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
      if (waiting == 0 && !uploading) co_return absl::OkStatus();
      if (uploading && (waiting == 0 || (waiting < kPollBatchWhileUploading &&
                                         absl::Now() - last_poll < options_.poll_max))) {
        co_await PauseFor(options_.poll_initial);
        continue;
      }
      if (!uploading && !deadline.has_value()) {
        deadline = absl::Now() + options_.processing_timeout;
        down_before_deadline = outage_.DownTime();
      }
      // Few items: ask for them by id; many: list the dataset (fewer calls),
      // a page at a time.
      last_poll = absl::Now();
      size_t changed = 0;
      absl::Status polled;
      if (waiting <= 200) {
        polled = co_await PollByIds(&changed);
      } else {
        polled = co_await PollDataset(&changed);
      }
      if (absl::Status stopped = StopStatus(); !stopped.ok()) co_return stopped;
      if (!polled.ok() && !PollMayGoOn(polled)) co_return polled;
      if (!polled.ok()) {
        // One failed poll (after the client's retries) fails nothing: the
        // wait polls again until its own timeout.
        last_poll_error = polled;
        common::LogWarning(absl::StrCat("run ", run_.uid(), ": polling V7 for processed items: ",
                                        polled.message(), "; polling again"));
      }
      if (changed > 0) {
        delay = options_.poll_initial;
        continue;
      }
      if (deadline.has_value() &&
          absl::Now() + delay > *deadline + (outage_.DownTime() - down_before_deadline))
        co_return absl::DeadlineExceededError(absl::StrCat(
            absl::StrFormat("%d V7 items did not finish processing within %s", waiting,
                            absl::FormatDuration(options_.processing_timeout)),
            last_poll_error.ok() ? ""
                                 : absl::StrCat(" (last poll: ", last_poll_error.message(), ")")));
      co_await PauseFor(delay);
      delay = std::min(options_.poll_max, delay * 1.5);
    }
  }

  // Asks V7 for the (at most 200) waiting items by id.
  boost::asio::awaitable<absl::Status> PollByIds(size_t* changed) {
    const std::vector<int64_t> positions =
        PositionsAt(labelport::internal::v1::SAMPLE_STEP_UPLOADED, 0, SampleCount(), 200);
    auto records = co_await FetchRecords(positions);
    if (!records.ok()) co_return records.status();
    std::vector<std::string> ids;
    ids.reserve(records->size());
    for (const SampleProgress& p : *records) ids.push_back(p.item_id());
    co_return co_await OutageTolerant<absl::Status>([&]() -> boost::asio::awaitable<absl::Status> {
      auto items = co_await client_->ListItems(state_.dataset_id(), ids);
      if (!items.ok()) co_return items.status();
      co_return co_await ApplyPolled(*records, *items, changed);
    });
  }

  // Lists the dataset page by page and matches each page's items with the
  // waiting samples by the hash of their item id (then by the id itself, in
  // their records).
  boost::asio::awaitable<absl::Status> PollDataset(size_t* changed) {
    // The waiting positions, sorted by their items' hashes.
    std::vector<uint32_t> by_hash;
    {
      absl::MutexLock lock(&mu_);
      for (size_t i = 0; i < index_.size(); ++i)
        if ((index_[i] & kStepMask) == labelport::internal::v1::SAMPLE_STEP_UPLOADED)
          by_hash.push_back(static_cast<uint32_t>(i));
      std::sort(by_hash.begin(), by_hash.end(),
                [this](uint32_t a, uint32_t b) { return item_hash_[a] < item_hash_[b]; });
    }
    DarwinClient::ItemPageSink on_page =
        [this, &by_hash,
         changed](std::vector<DarwinItem> page) -> boost::asio::awaitable<absl::Status> {
      std::vector<std::pair<int64_t, size_t>> matches;  // (position, item in page)
      {
        absl::MutexLock lock(&mu_);
        for (size_t j = 0; j < page.size(); ++j) {
          const uint64_t h = ItemHash(page[j].id);
          auto it = std::lower_bound(
              by_hash.begin(), by_hash.end(), h,
              [this](uint32_t pos, uint64_t value) { return item_hash_[pos] < value; });
          for (; it != by_hash.end() && item_hash_[*it] == h; ++it) matches.emplace_back(*it, j);
        }
      }
      if (matches.empty()) co_return absl::OkStatus();
      std::sort(matches.begin(), matches.end());
      std::vector<int64_t> positions;
      positions.reserve(matches.size());
      for (const auto& [position, j] : matches) positions.push_back(position);
      auto records = co_await FetchRecords(positions);
      if (!records.ok()) co_return records.status();
      co_return co_await ApplyPolled(*records, page, changed);
    };
    co_return co_await OutageTolerant<absl::Status>(
        [&] { return client_->ListItemPages(state_.dataset_id(), {}, on_page); });
  }

  // Records what V7 says of the items of waiting samples (`records`, read
  // from the journal): processed items are saved PROCESSED (queued for
  // import) or, without labels, LABELS_IMPORTED; failed ones fail.
  boost::asio::awaitable<absl::Status> ApplyPolled(const std::vector<SampleProgress>& records,
                                                   const std::vector<DarwinItem>& items,
                                                   size_t* changed) {
    std::map<std::string, const DarwinItem*> by_id;
    for (const auto& item : items) by_id[item.id] = &item;
    std::vector<SampleProgress> done;
    std::vector<int64_t> to_import;
    for (const SampleProgress& record : records) {
      const int64_t i = record.position();
      if (StepAt(i) != labelport::internal::v1::SAMPLE_STEP_UPLOADED) continue;
      auto it = by_id.find(record.item_id());
      if (it == by_id.end()) continue;
      const DarwinItem& item = *it->second;
      if (IsErrorStatus(item.status) || IsErrorStatus(item.processing_status)) {
        co_await Fail(record, "process",
                      absl::StrCat("V7 could not process the media of item '", item.name,
                                   "' (status ", item.status, ")"));
        continue;
      }
      if (!IsProcessedStatus(item.status) || item.processing_status == "processing") continue;
      SampleProgress p = record;
      if (!item.slots.empty()) {
        p.set_width(static_cast<int32_t>(item.slots[0].width));
        p.set_height(static_cast<int32_t>(item.slots[0].height));
        p.set_fps(item.slots[0].fps);
        p.set_frame_count(static_cast<int32_t>(item.slots[0].frame_count));
      }
      // Nothing to import: the sample is complete once processed.
      if (HasLabelsAt(i)) {
        p.set_step(labelport::internal::v1::SAMPLE_STEP_PROCESSED);
        to_import.push_back(i);
      } else {
        p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
      }
      done.push_back(std::move(p));
    }
    if (absl::Status stopped = StopStatus(); !stopped.ok()) co_return stopped;
    if (done.empty()) co_return absl::OkStatus();
    const size_t n = done.size();
    absl::Status s = co_await SaveAndIndex(std::move(done));
    if (!s.ok()) co_return s;
    *changed += n;
    QueueImports(to_import);
    co_return absl::OkStatus();
  }

  // ---- 5. classes and properties -----------------------------------------

  // Adds the classes a sample's labels use (LoadState reads every sample).
  void AddSampleClasses(const v1::Sample& sample) {
    for (const auto& sf : sample.fields()) {
      const v1::FieldSchema* field = FieldOf(sf.field());
      if (field == nullptr) continue;
      const std::string type = DarwinTypeOfField(*field);
      auto add = [&](const auto& label) { sample_classes_.insert({label.label(), type}); };
      ForEachLabel(sf.value(), add);
      for (const auto& frame : sf.frames()) ForEachLabel(frame.value(), add);
    }
  }

  std::set<ClassKey> RequiredClasses() const {
    std::set<ClassKey> out = sample_classes_;
    for (const auto& field : run_.label_schema().fields()) {
      const std::string type = DarwinTypeOfField(field);
      // Masks are drawn on the team's built-in raster layer class.
      if (type == "mask") out.insert({"__raster_layer__", "raster_layer"});
      for (const auto& entry : field.classes().entries()) {
        if (entry.has_name()) out.insert({entry.name(), type});
        if (entry.has_group())
          for (const auto& n : entry.group().classes().names()) out.insert({n, type});
      }
    }
    return out;
  }

  const v1::FieldSchema* FieldOf(const std::string& name) const {
    for (const auto& f : run_.label_schema().fields())
      if (f.field() == name) return &f;
    return nullptr;
  }

  // A new class's metadata: a skeleton class carries the skeleton of the
  // (first) field whose classes include it.
  boost::json::object MetadataOf(const ClassKey& key) const {
    if (key.second != "skeleton") return {};
    const v1::FieldSchema* any = nullptr;
    for (const auto& f : run_.label_schema().fields()) {
      if (DarwinTypeOfField(f) != "skeleton") continue;
      if (any == nullptr) any = &f;
      for (const auto& e : f.classes().entries())
        if (e.name() == key.first) return SkeletonClassMetadata(f.skeleton());
    }
    return any != nullptr ? SkeletonClassMetadata(any->skeleton()) : boost::json::object{};
  }

  std::vector<std::string> SubTypesOf(const ClassKey& key) const {
    std::set<std::string> subtypes;
    for (const auto& f : run_.label_schema().fields()) {
      if (DarwinTypeOfField(f) != key.second) continue;
      for (auto& s : DarwinSubTypesFor(f, key.first)) subtypes.insert(s);
    }
    return {subtypes.begin(), subtypes.end()};
  }

  boost::asio::awaitable<absl::Status> EnsureClasses() {
    const std::set<ClassKey> required = RequiredClasses();
    bool missing = false;
    for (const auto& key : required)
      missing = missing || !state_.class_ids().contains(ClassKeyString(key.first, key.second));
    if (missing) {
      auto classes = co_await client_->ListAnnotationClasses();
      if (!classes.ok()) co_return classes.status();
      for (const auto& key : required) {
        const std::string k = ClassKeyString(key.first, key.second);
        if (state_.class_ids().contains(k)) continue;
        const DarwinClass* found = nullptr;
        for (const auto& c : *classes) {
          if (c.name == key.first && !c.annotation_types.empty() &&
              c.annotation_types.front() == key.second)
            found = &c;
        }
        int64_t id = 0;
        if (found != nullptr) {
          id = found->id;
          // The raster layer class is global to the team (darwin-api §8.1).
          if (key.second != "raster_layer" &&
              std::find(found->dataset_ids.begin(), found->dataset_ids.end(),
                        state_.dataset_id()) == found->dataset_ids.end()) {
            absl::Status s = co_await Fenced<absl::Status>(
                [&] { return client_->AddClassToDataset(*found, state_.dataset_id()); });
            if (!s.ok()) co_return s;
          }
        } else {
          std::vector<std::string> types{key.second};
          for (auto& s : SubTypesOf(key)) types.push_back(s);
          // A lost answer is looked up by the client before it creates again.
          auto created = co_await Fenced<absl::StatusOr<DarwinClass>>([&] {
            return client_->CreateAnnotationClass(state_.dataset_id(), key.first, types,
                                                  MetadataOf(key));
          });
          if (created.ok() && std::find(created->dataset_ids.begin(), created->dataset_ids.end(),
                                        state_.dataset_id()) == created->dataset_ids.end()) {
            // Found by that lookup, created by another run meanwhile.
            absl::Status s = co_await Fenced<absl::Status>(
                [&] { return client_->AddClassToDataset(*created, state_.dataset_id()); });
            if (!s.ok()) co_return s;
          }
          if (created.status().code() == absl::StatusCode::kAlreadyExists) {
            // Another run (or our lost attempt) created it meanwhile: look it up.
            auto again = co_await client_->ListAnnotationClasses();
            if (!again.ok()) co_return again.status();
            for (const auto& c : *again)
              if (c.name == key.first && !c.annotation_types.empty() &&
                  c.annotation_types.front() == key.second) {
                created = c;
                absl::Status s = co_await Fenced<absl::Status>(
                    [&] { return client_->AddClassToDataset(c, state_.dataset_id()); });
                if (!s.ok()) co_return s;
              }
          }
          if (!created.ok()) co_return created.status();
          id = created->id;
        }
        (*state_.mutable_class_ids())[k] = id;
      }
      absl::Status s = co_await SaveState();
      if (!s.ok()) co_return s;
    }
    co_return co_await EnsureProperties();
  }

  boost::asio::awaitable<absl::Status> EnsureProperties() {
    for (const auto& field : run_.label_schema().fields()) {
      const std::string type = DarwinTypeOfField(field);
      std::set<std::string> class_names;
      for (const auto& entry : field.classes().entries()) {
        if (entry.has_name()) class_names.insert(entry.name());
        if (entry.has_group())
          for (const auto& n : entry.group().classes().names()) class_names.insert(n);
      }
      for (const auto& name : class_names) {
        auto it = state_.class_ids().find(ClassKeyString(name, type));
        if (it == state_.class_ids().end()) continue;
        const int64_t class_id = it->second;
        for (const auto& spec : AttributesFor(field, name)) {
          if (spec.type() != "single_select" && spec.type() != "multi_select") continue;
          absl::Status s = co_await EnsureProperty(class_id, spec);
          if (!s.ok()) co_return s;
        }
      }
    }
    co_return absl::OkStatus();
  }

  boost::asio::awaitable<absl::Status> EnsureProperty(int64_t class_id,
                                                      const v1::AttributeSpec& spec) {
    auto key = std::make_pair(class_id, spec.name());
    if (properties_.contains(key)) co_return absl::OkStatus();
    if (!class_properties_.contains(class_id)) {
      auto listed = co_await client_->ListProperties(class_id);
      if (!listed.ok()) co_return listed.status();
      class_properties_[class_id] = *std::move(listed);
    }
    std::vector<std::string> wanted;
    for (const auto& v : spec.values()) wanted.push_back(PropertyValueString(v));
    const DarwinProperty* existing = nullptr;
    for (const auto& p : class_properties_[class_id])
      if (p.name == spec.name()) existing = &p;
    DarwinProperty property;
    if (existing == nullptr) {
      PropertyDefinition def;
      def.name = spec.name();
      def.type = spec.type();
      def.granularity = spec.has_granularity() ? spec.granularity() : "section";
      def.required = spec.has_required() && spec.required();
      def.annotation_class_id = class_id;
      def.values = wanted;
      auto created = co_await Fenced<absl::StatusOr<DarwinProperty>>(
          [&] { return client_->CreateProperty(def); });
      if (!created.ok()) co_return created.status();
      property = *std::move(created);
    } else {
      property = *existing;
    }
    // A property found rather than created (by the client after a lost
    // answer, or listed above) may lack values; only those are added.
    std::vector<std::string> missing;
    for (const auto& w : wanted) {
      bool have = false;
      for (const auto& v : property.values) have = have || v.value == w;
      if (!have) missing.push_back(w);
    }
    if (!missing.empty()) {
      auto updated = co_await Fenced<absl::StatusOr<DarwinProperty>>(
          [&] { return client_->AddPropertyValues(property, missing); });
      if (!updated.ok()) co_return updated.status();
      property = *std::move(updated);
    }
    ResolvedProperty resolved;
    resolved.id = property.id;
    resolved.granularity = property.granularity;
    for (const auto& v : property.values) resolved.value_ids[v.value] = v.id;
    properties_[key] = std::move(resolved);
    co_return absl::OkStatus();
  }

  // ---- 6. labels --------------------------------------------------------

  // Classes, then the processing wait feeding `import_concurrency` import
  // workers through a queue. Samples already PROCESSED (a resumed run) are
  // queued first. Completes when the wait has ended and the queue is empty.
  boost::asio::awaitable<absl::Status> ProcessAndImport() {
    import_wake_.emplace(co_await boost::asio::this_coro::executor, 1);
    std::vector<int64_t> with_labels;
    const int64_t n = SampleCount();
    for (int64_t from = 0; from < n;) {
      const std::vector<int64_t> processed =
          PositionsAt(labelport::internal::v1::SAMPLE_STEP_PROCESSED, from, n, kWindow);
      if (processed.empty()) break;
      from = processed.back() + 1;
      std::vector<int64_t> without_labels;
      for (int64_t i : processed) (HasLabelsAt(i) ? with_labels : without_labels).push_back(i);
      if (without_labels.empty()) continue;
      auto records = co_await FetchRecords(without_labels);
      if (!records.ok()) co_return records.status();
      for (SampleProgress& p : *records)
        p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
      absl::Status s = co_await SaveAndIndex(*std::move(records));
      if (!s.ok()) co_return s;
    }
    absl::Status s = co_await OutageTolerant<absl::Status>([this] { return EnsureClasses(); });
    // No import can start without the classes: the run fails once the uploads
    // end; a resume polls the uploaded items again.
    if (!s.ok()) co_return s;
    QueueImports(with_labels);
    with_labels = {};
    // Side by side to the end, as in the job's main step (not operator&&).
    absl::Status waited;
    co_await common::ParallelFor(2, 2, [&](size_t i) -> boost::asio::awaitable<void> {
      if (i == 0)
        waited = co_await WaitThenCloseQueue();
      else
        co_await ImportWorkers();
    });
    co_return waited;
  }

  boost::asio::awaitable<absl::Status> WaitThenCloseQueue() {
    absl::Status s = co_await WaitForProcessing();
    CloseImportQueue();
    co_return s;
  }

  void QueueImports(const std::vector<int64_t>& positions) {
    if (positions.empty()) return;
    {
      absl::MutexLock lock(&mu_);
      for (int64_t i : positions) import_queue_.push_back(i);
    }
    Wake();
  }

  // No more samples will be queued.
  void CloseImportQueue() {
    {
      absl::MutexLock lock(&mu_);
      import_queue_closed_ = true;
    }
    Wake();
  }

  // The channel holds at most one wake-up, so a signal sent before a worker
  // waits is not lost; a woken worker passes it on while work (or the close)
  // remains for the others.
  void Wake() { (void)import_wake_->try_send(boost::system::error_code{}); }

  boost::asio::awaitable<void> ImportWorkers() {
    const size_t workers = static_cast<size_t>(std::max(1, options_.import_concurrency));
    co_await common::ParallelFor(workers, workers, [this](size_t) -> boost::asio::awaitable<void> {
      while (true) {
        std::optional<int64_t> next;
        bool closed = false;
        bool more = false;
        {
          absl::MutexLock lock(&mu_);
          if (!import_queue_.empty()) {
            next = import_queue_.front();
            import_queue_.pop_front();
          }
          closed = import_queue_closed_;
          more = !import_queue_.empty();
        }
        if (more || (closed && !next.has_value())) Wake();
        if (next.has_value()) {
          co_await ImportOne(*next);
          continue;
        }
        if (closed) co_return;
        co_await import_wake_->async_receive(boost::asio::use_awaitable);
      }
    });
  }

  boost::asio::awaitable<void> ImportOne(int64_t i) {
    if (Stopped()) co_return;
    auto window = co_await LoadWindow(i, 1);
    if (!window.ok() || window->samples.empty()) co_return;  // the job stopped
    const v1::Sample& sample = window->samples.front();
    SampleProgress p = window->records.front();
    boost::json::array annotations;
    std::vector<AnnotationLink> links;
    for (const auto& sf : sample.fields()) {
      const v1::FieldSchema* field = FieldOf(sf.field());
      if (field == nullptr) continue;
      for (const auto& frame : sf.frames()) {
        if (p.frame_count() > 0 && frame.frame_number() > p.frame_count()) {
          co_await Fail(
              p, "import_labels",
              absl::StrFormat("Sample '%s' field '%s': frame %d is beyond the %d frames V7 "
                              "found in the video",
                              sample.id(), sf.field(), frame.frame_number(), p.frame_count()));
          co_return;
        }
      }
      EncodeContext context;
      context.field = field;
      context.width = p.width();
      context.height = p.height();
      context.run_uid = run_.uid();
      context.sample_id = sample.id();
      context.item_id = p.item_id();
      context.class_id = [this](const std::string& name,
                                const std::string& type) -> absl::StatusOr<int64_t> {
        auto it = state_.class_ids().find(ClassKeyString(name, type));
        if (it == state_.class_ids().end())
          return absl::NotFoundError(absl::StrCat("no V7 class for '", name, "' (", type, ")"));
        return it->second;
      };
      context.property = [this](int64_t class_id,
                                const std::string& name) -> std::optional<ResolvedProperty> {
        auto it = properties_.find({class_id, name});
        if (it == properties_.end()) return std::nullopt;
        return it->second;
      };
      absl::StatusOr<EncodedLabels> encoded =
          sf.frames_size() > 0
              ? EncodeFrameFieldValues(sf.frames(), context,
                                       field->has_only_keyframes() && field->only_keyframes())
              : EncodeFieldValue(sf.value(), context);
      if (!encoded.ok()) {
        co_await Fail(p, "import_labels", encoded.status().message());
        co_return;
      }
      for (auto& a : encoded->annotations) annotations.push_back(std::move(a));
      for (auto& l : encoded->links) links.push_back(std::move(l));
    }
    absl::Status s = co_await Durably<absl::Status>("save annotation links",
                                                    [&] { return journal_.SaveLinks(links); });
    if (!s.ok()) co_return;  // the job stopped
    // Overwrite with deterministic ids: the client repeats a lost import. One
    // that exhausts its retries fails the sample, unless V7 is down: then the
    // import waits for it.
    s = co_await OutageTolerant<absl::Status>([&]() -> boost::asio::awaitable<absl::Status> {
      co_return co_await Fenced<absl::Status>(
          [&] { return client_->ImportAnnotations(p.item_id(), annotations, /*overwrite=*/true); });
    });
    if (Stopped()) co_return;
    if (!s.ok()) {
      co_await Fail(p, "import_labels", s.message());
      co_return;
    }
    p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
    absl::Status saved = co_await SaveGrouped(p);
    if (saved.ok()) Index(p);  // an error stopped the job
  }

  DarwinClient* client_;
  http::HttpClient* http_;
  const DarwinBackend::Options& options_;
  UploadJournal& journal_;
  const v1::AnnotationRun& run_;

  absl::Mutex mu_;
  // The index, by position (see the class comment).
  std::vector<uint8_t> index_;       // guarded by mu_
  std::vector<uint64_t> item_hash_;  // guarded by mu_
  // The classes the samples' labels use (read by LoadState).
  std::set<ClassKey> sample_classes_;
  std::atomic<bool> uploads_done_{false};
  // Processed samples with labels, waiting for an import worker.
  std::deque<int64_t> import_queue_;  // guarded by mu_
  bool import_queue_closed_ = false;  // guarded by mu_
  std::optional<boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>>
      import_wake_;
  DarwinRunState state_;
  // Whether the run's dataset existed before the run (listed once).
  std::optional<bool> dataset_existed_;
  V7OutageWait outage_;
  std::map<int64_t, std::vector<DarwinProperty>> class_properties_;
  std::map<std::pair<int64_t, std::string>, ResolvedProperty> properties_;
  absl::Status stop_;  // guarded by mu_
  std::atomic<bool> abandon_logged_{false};
  // Grouped saves (SaveGrouped).
  using SaveDone =
      boost::asio::experimental::concurrent_channel<void(boost::system::error_code, absl::Status)>;
  struct GroupedSave {
    SampleProgress record;
    std::shared_ptr<SaveDone> done;
  };
  absl::Mutex group_mu_;
  std::vector<GroupedSave> group_ ABSL_GUARDED_BY(group_mu_);
  bool group_writing_ ABSL_GUARDED_BY(group_mu_) = false;
};

// One export entry, decoded (on the CPU pool): the sample's labels, or why
// the item is skipped, and the annotations skipped within it.
struct DecodedEntry {
  std::optional<LoadedSample> sample;  // nullopt: the whole item is skipped
  std::vector<v1::SkippedEntry> skipped;
};

// One load of a run: export → wait → download → decode item by item.
//
// CPU work (reading zip entries, parsing and converting them) runs on the
// shared CPU pool (Options::cpu_pool), never on the I/O thread; the results
// reach the sink in entry order on this coroutine. A cancellation of the
// coroutine stops the V7 work at its next step; the export, once requested,
// is then deleted by a step that is not cancellable and bounded in time.
class LoadJob {
 public:
  LoadJob(DarwinClient* client, const DarwinBackend::Options& options, UploadJournal& journal,
          LoadSink& sink)
      : client_(client), options_(options), journal_(journal), sink_(sink), run_(journal.run()) {}

  boost::asio::awaitable<absl::Status> Run() {
    auto state = co_await LoadDarwinRunState(journal_);
    if (!state.ok()) co_return state.status();
    if (state->dataset_id() == 0)
      co_return absl::FailedPreconditionError(absl::StrCat("run '", run_.name(),
                                                           "' has no V7 dataset yet (state ",
                                                           v1::RunState_Name(run_.state()), ")"));
    // The export names every item, so their ids are all kept; the records
    // are read a page at a time.
    std::vector<std::string> item_ids;
    absl::Status read =
        co_await ForEachProgressPage(journal_, [&](const std::vector<SampleProgress>& page) {
          for (const auto& p : page) {
            if (p.item_id().empty()) continue;
            item_positions_[p.item_id()] = p.position();
            item_ids.push_back(p.item_id());
          }
          return absl::OkStatus();
        });
    if (!read.ok()) co_return read;
    if (item_ids.empty())
      co_return absl::FailedPreconditionError(
          absl::StrCat("run '", run_.name(), "' has no items in V7"));
    name_ = ExportName(run_.uid());
    slug_ = run_.darwin().dataset_slug();
    total_ = static_cast<int64_t>(item_ids.size());

    absl::Status result;
    bool cancelled = false;
    try {
      result = co_await ExportAndRead(std::move(item_ids));
    } catch (const boost::system::system_error& e) {
      // Asio's cancellation of this coroutine (the caller went away): every
      // co_await after it throws operation_aborted.
      if (e.code() != boost::asio::error::operation_aborted) throw;
      cancelled = true;
    }
    if (cancelled || result.code() == absl::StatusCode::kCancelled) {
      // From here on nothing is cancelled: the clean-up must run. (The
      // cancellation may also land after the sink said CANCELLED: it must
      // not throw out of the clean-up then.)
      co_await boost::asio::this_coro::reset_cancellation_state();
      co_await boost::asio::this_coro::throw_if_cancelled(false);
      if (decoder_.has_value()) co_await decoder_->Drain();
      bool deleted = export_deleted_;
      if (export_requested_ && !export_deleted_) deleted = co_await DeleteExportWithin();
      if (cancelled) result = absl::CancelledError("the load was cancelled");
      common::LogInfo(absl::StrCat("run ", run_.uid(), ": load cancelled; V7 export '", name_, "' ",
                                   !export_requested_ ? "never requested"
                                   : deleted          ? "deleted"
                                                      : "left to V7 to expire"));
    } else if (decoder_.has_value()) {
      co_await decoder_->Drain();
    }
    decoder_.reset();
    co_return result;
  }

 private:
  using Decoder =
      common::OrderedParallelMap<std::pair<std::string, std::string>, absl::StatusOr<DecodedEntry>>;

  boost::asio::awaitable<absl::Status> ExportAndRead(std::vector<std::string> item_ids) {
    // 1. Export only the run's items. From the request on, the export may
    // exist in V7 (a cancelled request may have reached it).
    export_requested_ = true;
    absl::Status s = co_await client_->CreateExport(slug_, name_, item_ids);
    if (!s.ok()) {
      if (s.code() != absl::StatusCode::kCancelled) export_requested_ = false;
      co_return Stage("requesting the export", s);
    }
    s = co_await Progress(v1::LOAD_STAGE_EXPORT_REQUESTED, 0, total_);
    if (!s.ok()) co_return s;

    // 2. Wait until it has a download URL.
    std::string url;
    const absl::Time deadline = absl::Now() + options_.export_timeout;
    absl::Duration delay = options_.poll_initial;
    absl::Status last_poll_error;
    while (url.empty()) {
      auto exports = co_await client_->ListExports(slug_);
      if (!exports.ok() && !PollMayGoOn(exports.status()))
        co_return Stage("waiting for the export", exports.status());
      if (!exports.ok()) {
        // One failed poll (after the client's retries) fails nothing: the
        // wait polls again until its own timeout.
        last_poll_error = exports.status();
        common::LogWarning(absl::StrCat("run ", run_.uid(), ": polling V7 for the export: ",
                                        exports.status().message(), "; polling again"));
        exports = std::vector<DarwinExport>{};
      }
      for (const auto& e : *exports) {
        if (e.name != name_) continue;
        if (e.status == "failed") {
          co_await DeleteExport();
          co_return absl::UnavailableError(absl::StrCat("V7 export '", name_, "' failed"));
        }
        if (e.download_url) url = *e.download_url;
      }
      if (!url.empty()) break;
      if (absl::Now() + delay > deadline) {
        co_await DeleteExport();
        co_return absl::DeadlineExceededError(absl::StrCat(
            "V7 export '", name_, "' was not ready within ",
            absl::FormatDuration(options_.export_timeout),
            last_poll_error.ok() ? ""
                                 : absl::StrCat(" (last poll: ", last_poll_error.message(), ")")));
      }
      co_await PauseFor(delay);
      delay = std::min(options_.poll_max, delay * 1.5);
    }
    s = co_await Progress(v1::LOAD_STAGE_EXPORT_READY, 0, total_);
    if (!s.ok()) co_return s;

    // 3. Download to a temporary file (constant memory), then 4. parse it one
    // entry at a time. The export is deleted whatever happens.
    std::string path = absl::StrCat(options_.temp_dir, "/labelport-export-XXXXXX");
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
      co_await DeleteExport();
      co_return absl::UnavailableError("cannot create a temporary file for the export");
    }
    ::close(fd);
    // Removed on every path, cancellation (this coroutine destroyed) included.
    const RemoveOnExit remove_download(path);
    // The client repeats the download from its first byte after a 5xx/429,
    // a dropped connection or a cut or garbled body.
    absl::StatusOr<int64_t> downloaded =
        co_await client_->DownloadExport(url, path, options_.download_timeout);
    if (!downloaded.ok()) {
      if (downloaded.status().code() != absl::StatusCode::kCancelled) co_await DeleteExport();
      co_return Stage("downloading the export", downloaded.status());
    }
    co_await DeleteExport();
    // Entries are read one at a time and parsed and converted on the CPU
    // pool; the results reach the sink in entry order on this coroutine (a
    // bounded window keeps memory flat).
    const int threads = options_.cpu_pool == nullptr ? 1 : options_.cpu_pool->threads();
    decoder_.emplace(
        options_.cpu_pool, /*window=*/4 * threads,
        [this](const std::pair<std::string, std::string>& entry) {
          return DecodeEntry(entry.first, entry.second);
        },
        [this](absl::StatusOr<DecodedEntry> decoded) -> boost::asio::awaitable<absl::Status> {
          if (!decoded.ok()) co_return decoded.status();
          absl::Status st = co_await DeliverEntry(*std::move(decoded));
          if (!st.ok()) co_return st;
          ++parsed_;
          if (parsed_ % 100 == 0)
            co_return co_await Progress(v1::LOAD_STAGE_PARSING, parsed_, total_);
          co_return absl::OkStatus();
        });
    s = co_await ReadEntries(path);
    absl::Status finished = co_await decoder_->Finish();
    if (s.ok()) s = finished;
    // A zip or Darwin JSON that cannot be read is a bad download (cut or
    // corrupted on the way), not a bad request: say so, and that a retry
    // downloads a fresh export (nothing was committed).
    if (!s.ok() && !sink_failed_ &&
        (s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kDataLoss || s.code() == absl::StatusCode::kNotFound ||
         s.code() == absl::StatusCode::kOutOfRange))
      co_return absl::UnavailableError(absl::StrCat(
          "reading the V7 export '", name_, "' failed (corrupt or truncated download; ",
          "nothing was loaded, retry the load): ", s.message()));
    if (!s.ok()) co_return s;
    co_return co_await Progress(v1::LOAD_STAGE_PARSING, parsed_, total_);
  }

  // Reads the zip's entries (on the CPU pool) into the decoder.
  boost::asio::awaitable<absl::Status> ReadEntries(const std::string& path) {
    auto reader = co_await OnCpu([&path] { return ExportEntryReader::Open(path); });
    if (!reader.ok()) co_return reader.status();
    for (;;) {
      using Entry = std::pair<std::string, std::string>;
      absl::StatusOr<std::optional<Entry>> next =
          co_await OnCpu([&reader]() -> absl::StatusOr<std::optional<Entry>> {
            Entry entry;
            absl::StatusOr<bool> more = (*reader)->Next(&entry.first, &entry.second);
            if (!more.ok()) return more.status();
            if (!*more) return std::nullopt;
            return entry;
          });
      if (!next.ok()) co_return next.status();
      if (!next->has_value()) co_return absl::OkStatus();
      absl::Status s = co_await decoder_->Push(**std::move(next));
      if (!s.ok()) co_return s;
    }
  }

  // Runs `fn` on the CPU pool (inline without one).
  template <typename Fn>
  boost::asio::awaitable<std::invoke_result_t<Fn&>> OnCpu(Fn fn) {
    if (options_.cpu_pool == nullptr) co_return fn();
    co_return co_await options_.cpu_pool->Run(std::move(fn));
  }

  // Deletes the export (a failure is only logged: V7 expires exports).
  // Returns whether the export is gone.
  boost::asio::awaitable<bool> DeleteExport() {
    export_deleted_ = true;
    absl::Status s = co_await client_->DeleteExport(slug_, name_);
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) {
      common::LogWarning(
          absl::StrCat("run ", run_.uid(), ": deleting V7 export '", name_, "': ", s.message()));
      co_return false;
    }
    co_return true;
  }

  // The clean-up of a cancelled load: deletes the export on a strand of its
  // own, not bound to this coroutine's cancellation, and gives up after
  // export_cleanup_timeout (a timer on the same strand emits a terminal
  // cancellation into the deletion, which is still awaited to its end). No
  // Asio parallel group: in Boost 1.81 it writes into the awaiting
  // coroutine's cancellation slot after that coroutine may have resumed.
  // Returns whether the export is gone (false when the deletion failed or was given up).
  boost::asio::awaitable<bool> DeleteExportWithin() {
    struct Race {
      explicit Race(const boost::asio::any_io_executor& executor) : timer(executor) {}
      boost::asio::steady_timer timer;
      boost::asio::cancellation_signal cancel;
      bool finished = false;
      bool timed_out = false;
    };
    const absl::Duration limit = options_.export_cleanup_timeout;
    auto strand = boost::asio::make_strand(co_await boost::asio::this_coro::executor);
    co_return co_await boost::asio::co_spawn(
        strand,
        [this, limit]() -> boost::asio::awaitable<bool> {
          // Everything below runs on the strand: the timer's handler, the
          // deletion and this coroutine never overlap.
          auto race = std::make_shared<Race>(co_await boost::asio::this_coro::executor);
          race->timer.expires_after(absl::ToChronoMilliseconds(limit));
          race->timer.async_wait([race](const boost::system::error_code& ec) {
            if (ec || race->finished) return;
            race->timed_out = true;
            race->cancel.emit(boost::asio::cancellation_type::terminal);
          });
          const bool deleted = co_await boost::asio::co_spawn(
              co_await boost::asio::this_coro::executor, DeleteExport(),
              boost::asio::bind_cancellation_slot(race->cancel.slot(), boost::asio::use_awaitable));
          race->finished = true;
          race->timer.cancel();
          if (race->timed_out)
            common::LogWarning(absl::StrCat("run ", run_.uid(), ": deleting V7 export '", name_,
                                            "' took over ", absl::FormatDuration(limit),
                                            "; left to V7"));
          co_return deleted && !race->timed_out;
        },
        boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                            boost::asio::use_awaitable));
  }

  static absl::Status Stage(absl::string_view stage, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(stage, ": ", s.message()));
  }

  boost::asio::awaitable<absl::Status> Progress(v1::LoadStage stage, int64_t parsed,
                                                int64_t total) {
    v1::LoadProgress p;
    p.set_stage(stage);
    p.set_items_parsed(parsed);
    p.set_items_total(total);
    absl::Status s = co_await sink_.OnProgress(p);
    if (!s.ok()) sink_failed_ = true;
    co_return s;
  }

  // Parses and converts one entry (on the CPU pool). Thread-safe: reads only the item map, the
  // run and the journal (whose reads are thread-safe).
  absl::StatusOr<DecodedEntry> DecodeEntry(absl::string_view entry, absl::string_view contents) {
    auto item = DecodeDarwinJson(contents, entry);
    if (!item.ok()) return item.status();
    DecodedEntry out;
    auto it = item_positions_.find(item->item_id);
    if (it == item_positions_.end()) {
      v1::SkippedEntry e;
      e.set_item_id(item->item_id);
      e.set_reason("the item does not belong to this run");
      out.skipped.push_back(std::move(e));
      return out;
    }
    auto samples = journal_.LoadSamplesBlocking(it->second, 1);
    if (!samples.ok()) return samples.status();
    if (samples->empty())
      return absl::InternalError(absl::StrCat("no stored sample at position ", it->second));
    std::vector<v1::SkippedEntry> skipped;
    for (const auto& [id, reason] : item->skipped) {
      v1::SkippedEntry e;
      e.set_item_id(item->item_id);
      e.set_annotation_id(id);
      e.set_reason(reason);
      skipped.push_back(std::move(e));
    }
    // Links are read per item, so memory does not grow with the run.
    auto item_links = journal_.LoadLinksForItemBlocking(item->item_id);
    if (!item_links.ok()) return item_links.status();
    std::map<std::string, labelport::internal::v1::AnnotationLink> links;
    for (auto& l : *item_links) links.emplace(l.annotation_id(), std::move(l));
    auto loaded = DecodeItem(*item, samples->front(), run_.label_schema(), links, &skipped);
    if (!loaded.ok())
      return absl::Status(loaded.status().code(),
                          absl::StrCat("item '", item->item_id, "': ", loaded.status().message()));
    loaded->position = it->second;
    loaded->stored = std::move(samples->front());
    out.sample = *std::move(loaded);
    out.skipped = std::move(skipped);
    return out;
  }

  // Hands a decoded entry to the sink (on the loading coroutine, in entry
  // order).
  boost::asio::awaitable<absl::Status> DeliverEntry(DecodedEntry decoded) {
    for (auto& e : decoded.skipped) sink_.OnSkipped(std::move(e));
    if (!decoded.sample.has_value()) co_return absl::OkStatus();
    absl::Status s = co_await sink_.OnSample(*std::move(decoded.sample));
    if (!s.ok()) sink_failed_ = true;
    co_return s;
  }

  DarwinClient* client_;
  const DarwinBackend::Options& options_;
  UploadJournal& journal_;
  LoadSink& sink_;
  const v1::AnnotationRun& run_;
  std::map<std::string, int64_t> item_positions_;
  bool sink_failed_ = false;       // an error came from the sink (e.g. the client went away)
  std::string name_;               // the export's
  std::string slug_;               // the dataset's
  int64_t total_ = 0;              // items exported
  int64_t parsed_ = 0;             // entries delivered
  bool export_requested_ = false;  // the export may exist in V7
  bool export_deleted_ = false;
  // Declared last: its work on the CPU pool uses the members above.
  std::optional<Decoder> decoder_;
};

}  // namespace

DarwinBackend::DarwinBackend(DarwinClient* client, http::HttpClient* http, Options options)
    : client_(client), http_(http), options_(std::move(options)) {}

boost::asio::awaitable<absl::Status> DarwinBackend::UploadRun(UploadJournal& journal) {
  UploadJob job(client_, http_, options_, journal);
  co_return co_await job.Run();
}

boost::asio::awaitable<absl::Status> DarwinBackend::LoadRun(UploadJournal& journal,
                                                            LoadSink& sink) {
  LoadJob job(client_, options_, journal, sink);
  co_return co_await job.Run();
}

namespace {

// Calls `each` with the ids of the run's V7 items, at most kWindow at a
// time (memory does not grow with the run).
boost::asio::awaitable<absl::Status> ForEachItemIdChunk(
    UploadJournal& journal,
    std::function<boost::asio::awaitable<absl::Status>(std::vector<std::string>)> each) {
  const int64_t samples = journal.run().progress().samples_total();
  for (int64_t start = 0;; start += kWindow) {
    auto page = co_await journal.LoadProgress(start, kWindow);
    if (!page.ok()) co_return page.status();
    if (page->empty() && start >= samples) co_return absl::OkStatus();
    std::vector<std::string> ids;
    for (const auto& p : *page)
      if (!p.item_id().empty()) ids.push_back(p.item_id());
    if (ids.empty()) continue;
    absl::Status s = co_await each(std::move(ids));
    if (!s.ok()) co_return s;
  }
}

}  // namespace

boost::asio::awaitable<absl::StatusOr<v1::GetRunStatusResponse>> DarwinBackend::GetStatus(
    UploadJournal& journal) {
  auto state = co_await LoadDarwinRunState(journal);
  if (!state.ok()) co_return state.status();
  v1::GetRunStatusResponse response;
  if (state->dataset_id() == 0) co_return response;
  std::map<std::string, int64_t> counts;
  int64_t total = 0;
  absl::Status s = co_await ForEachItemIdChunk(
      journal, [&](std::vector<std::string> ids) -> boost::asio::awaitable<absl::Status> {
        auto items = co_await client_->ListItems(state->dataset_id(), std::move(ids));
        if (!items.ok()) co_return items.status();
        for (const auto& item : *items) ++counts[item.status];
        total += static_cast<int64_t>(items->size());
        co_return absl::OkStatus();
      });
  if (!s.ok()) co_return s;
  for (const auto& [status, count] : counts) {
    auto* c = response.add_counts();
    c->set_status(status);
    c->set_item_count(count);
  }
  response.set_total_items(total);
  co_return response;
}

boost::asio::awaitable<absl::StatusOr<v1::CleanupRunResponse>> DarwinBackend::Cleanup(
    UploadJournal& journal) {
  auto state = co_await LoadDarwinRunState(journal);
  if (!state.ok()) co_return state.status();
  v1::CleanupRunResponse response;
  if (state->dataset_id() == 0) co_return response;  // nothing reached V7
  if (state->dataset_created()) {
    auto workflows = co_await client_->ListWorkflows();
    if (!workflows.ok()) co_return workflows.status();
    for (const auto& w : *workflows) {
      if (!w.dataset_id || *w.dataset_id != state->dataset_id()) continue;
      absl::Status s = co_await client_->UnlinkWorkflowDataset(w.id);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
      s = co_await client_->DeleteWorkflow(w.id);
      if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
    }
    absl::Status s = co_await client_->ArchiveDataset(state->dataset_id());
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) co_return s;
    response.set_dataset_deleted(true);
    co_return response;
  }
  // Only items that still exist count (a second cleanup deletes nothing).
  int64_t deleted = 0;
  absl::Status s = co_await ForEachItemIdChunk(
      journal, [&](std::vector<std::string> ids) -> boost::asio::awaitable<absl::Status> {
        auto items = co_await client_->ListItems(state->dataset_id(), std::move(ids));
        if (!items.ok()) co_return items.status();
        std::vector<std::string> existing;
        for (const auto& item : *items) existing.push_back(item.id);
        if (existing.empty()) co_return absl::OkStatus();
        absl::Status removed = co_await client_->DeleteItems(state->dataset_id(), existing);
        if (!removed.ok()) co_return removed;
        deleted += static_cast<int64_t>(existing.size());
        co_return absl::OkStatus();
      });
  if (!s.ok()) co_return s;
  response.set_items_deleted(deleted);
  co_return response;
}

}  // namespace labelport::backend::darwin
