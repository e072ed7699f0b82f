#include "service/backend/darwin/load_job.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/backend/darwin/annotation_decoder.h"
#include "service/backend/darwin/darwin_json.h"
#include "service/backend/darwin/darwin_run_state.h"
#include "service/backend/darwin/export_archive.h"
#include "service/backend/darwin/journal_pages.h"
#include "service/backend/darwin/v7_poll.h"
#include "service/common/cpu_pool.h"
#include "service/common/log.h"
#include "service/common/ordered_parallel_map.h"

namespace labelport::backend::darwin {

std::string ExportName(absl::string_view uid) {
  // Seeded from the operating system's entropy (per thread).
  thread_local absl::BitGen bits;
  const uint32_t nonce = absl::Uniform<uint32_t>(bits);
  return absl::StrCat("labelport-", uid.substr(0, 12), "-", absl::ToUnixMillis(absl::Now()), "-",
                      absl::Hex(nonce, absl::kZeroPad8));
}

namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;

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

boost::asio::awaitable<absl::Status> RunLoadJob(DarwinClient* client,
                                                const DarwinBackend::Options& options,
                                                UploadJournal& journal, LoadSink& sink) {
  LoadJob job(client, options, journal, sink);
  co_return co_await job.Run();
}

}  // namespace labelport::backend::darwin
