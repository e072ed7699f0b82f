#include "service/backend/darwin/upload_job.h"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "service/backend/darwin/class_sync.h"
#include "service/backend/darwin/darwin_run_state.h"
#include "service/backend/darwin/item_registration.h"
#include "service/backend/darwin/journal_pages.h"
#include "service/backend/darwin/media_source.h"
#include "service/backend/darwin/processing_poll.h"
#include "service/backend/darwin/v7_poll.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/media_roots.h"
#include "service/common/parallel_for.h"

namespace labelport::backend::darwin {
namespace {

namespace v1 = labelport::v1;
using labelport::internal::v1::AnnotationLink;
using labelport::internal::v1::SampleProgress;

// The V7 item ids of `records`, in their order.
std::vector<std::string> ItemIdsOf(const std::vector<SampleProgress>& records) {
  std::vector<std::string> ids;
  ids.reserve(records.size());
  for (const SampleProgress& p : records) ids.push_back(p.item_id());
  return ids;
}

// `items` by id; the entries point into `items`.
absl::flat_hash_map<absl::string_view, const DarwinItem*> ItemsById(
    const std::vector<DarwinItem>& items) {
  absl::flat_hash_map<absl::string_view, const DarwinItem*> by_id;
  by_id.reserve(items.size());
  for (const DarwinItem& item : items) by_id[item.id] = &item;
  return by_id;
}

}  // namespace

UploadJob::UploadJob(DarwinClient* client, http::HttpClient* http,
                     const DarwinBackend::Options& options, UploadJournal& journal)
    : client_(client),
      http_(http),
      options_(options),
      journal_(journal),
      run_(journal.run()),
      guard_(journal, run_.uid(),
             {.initial_backoff = options.outage_initial_backoff,
              .max_backoff = options.outage_max_backoff,
              .max_wait = options.outage_max_wait,
              .log_name = absl::StrCat("run ", run_.name(), " (", run_.uid(), ")")},
             [client] { return client->CheckAccess(); }),
      // Durably saved (see SaveRecords).
      grouped_saves_([this](std::vector<SampleProgress> records) {
        return SaveRecords(std::move(records));
      }) {}

boost::asio::awaitable<absl::Status> UploadJob::Run() {
  // A closed fence stops the job at its next step, writes or not (a wait
  // for V7's processing, say); V7 writes in flight are abandoned (UploadGuard::Fenced).
  std::unique_ptr<LeaseWatch> stop_when_fenced = guard_.StopWhenFenced();
  absl::Status s = co_await guard_.Durably<absl::Status>("load the run's state from the store",
                                                         [this] { return LoadState(); });
  if (!s.ok()) co_return s;
  s = co_await guard_.OutageTolerant<absl::Status>([this] { return ResolveDataset(); });
  if (!s.ok()) co_return s;
  s = co_await guard_.OutageTolerant<absl::Status>([this] { return Register(); });
  if (!s.ok()) co_return s;
  s = co_await guard_.OutageTolerant<absl::Status>([this] { return RefreshResumed(); });
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
  if (absl::Status stopped = guard_.StopStatus(); !stopped.ok()) co_return stopped;
  co_return s;
}

// ---- the index ------------------------------------------------------------

// A FAILED record of an earlier job that this one retries (see LoadState)
// reads as the step it is retried from.
SampleProgress UploadJob::Current(SampleProgress p) {
  const SampleStep step = index_.StepAt(p.position());
  return AsRetried(std::move(p), step);
}

// ---- journal reads and writes --------------------------------------------

// Read durably.
boost::asio::awaitable<absl::StatusOr<UploadJob::Window>> UploadJob::LoadWindow(int64_t start,
                                                                                int count) {
  co_return co_await guard_.Durably<absl::StatusOr<Window>>(
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
// ranges (RangesOf) of at most kJournalWindow positions.
boost::asio::awaitable<absl::StatusOr<std::vector<SampleProgress>>> UploadJob::FetchRecords(
    const std::vector<int64_t>& positions) {
  using Records = std::vector<SampleProgress>;
  co_return co_await guard_.Durably<absl::StatusOr<Records>>(
      "read progress records",
      [this, &positions]() -> boost::asio::awaitable<absl::StatusOr<Records>> {
        Records out(positions.size());
        constexpr int64_t kGap = 32;
        for (const PositionRange& range : RangesOf(positions, kGap, kJournalWindow)) {
          auto records = co_await journal_.LoadProgress(range.start, range.count);
          if (!records.ok()) co_return records.status();
          size_t r = 0;
          for (size_t k = range.first; k < range.end; ++k) {
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

boost::asio::awaitable<absl::Status> UploadJob::SaveRecords(std::vector<SampleProgress> records) {
  if (records.empty()) co_return absl::OkStatus();
  co_return co_await guard_.Durably<absl::Status>("save sample progress",
                                                  [&] { return journal_.SaveProgress(records); });
}

// Saves records durably (UploadGuard::Durably), then records them in the index.
boost::asio::awaitable<absl::Status> UploadJob::SaveAndIndex(std::vector<SampleProgress> records) {
  absl::Status s = co_await SaveRecords(records);
  if (!s.ok()) co_return s;
  for (const SampleProgress& p : records) index_.Index(p);
  co_return absl::OkStatus();
}

boost::asio::awaitable<void> UploadJob::Fail(SampleProgress record, absl::string_view stage,
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

// ---- state ------------------------------------------------------------------

// Reads the run once, window by window, into the index (and the classes
// its labels use). May be repeated (the store failed): starts afresh.
// A resume retries failed samples from the step before the failure.
boost::asio::awaitable<absl::Status> UploadJob::LoadState() {
  index_.Reset(run_.progress().samples_total());
  sample_classes_.clear();
  for (int64_t start = 0;; start += kJournalWindow) {
    auto samples = co_await journal_.LoadSamples(start, kJournalWindow);
    if (!samples.ok()) co_return samples.status();
    auto records = co_await journal_.LoadProgress(start, kJournalWindow);
    if (!records.ok()) co_return records.status();
    std::vector<bool> has_labels;
    has_labels.reserve(samples->size());
    for (const v1::Sample& sample : *samples) {
      has_labels.push_back(HasLabels(sample));
      AddSampleClasses(run_.label_schema(), sample, &sample_classes_);
    }
    index_.AddWindow(start, has_labels, *records);
    if (static_cast<int>(samples->size()) < kJournalWindow) break;
  }
  auto state = co_await LoadDarwinRunState(journal_);
  if (!state.ok()) co_return state.status();
  state_ = *std::move(state);
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> UploadJob::SaveState() {
  co_return co_await guard_.Durably<absl::Status>(
      "save the run's V7 state", [this] { return SaveDarwinRunState(journal_, state_); });
}

// ---- 1. dataset -------------------------------------------------------------

boost::asio::awaitable<absl::Status> UploadJob::ResolveDataset() {
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
    auto dataset = co_await guard_.Fenced<absl::StatusOr<DarwinDataset>>(
        [&] { return client_->GetOrCreateDataset(slug); });
    if (!dataset.ok()) co_return dataset.status();
    state_.set_team_slug(*team);
    state_.set_dataset_id(dataset->id);
    state_.set_dataset_created(!*dataset_existed_);
    absl::Status s = co_await SaveState();
    if (!s.ok()) co_return s;
  }
  const std::string url = client_->EditorUrl(state_.dataset_id());
  co_return co_await guard_.Durably<absl::Status>("record the editor URL",
                                                  [&] { return journal_.SetEditorUrl(url); });
}

// ---- 2. registration --------------------------------------------------------

// Registers the samples not yet registered, a window at a time.
boost::asio::awaitable<absl::Status> UploadJob::Register() {
  const int64_t n = index_.size();
  for (int64_t start = 0; start < n; start += kJournalWindow) {
    if (index_
            .PositionsAt(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED, start,
                         start + kJournalWindow, 1)
            .empty())
      continue;
    auto window = co_await LoadWindow(start, kJournalWindow);
    if (!window.ok()) co_return window.status();
    absl::Status s = co_await RegisterWindow(*window);
    if (!s.ok()) co_return s;
  }
  co_return absl::OkStatus();
}

// Other errors than a forbidden path (a missing file) are left to the
// upload.
boost::asio::awaitable<std::vector<size_t>> UploadJob::RefuseForbiddenPaths(Window& w) {
  std::vector<size_t> todo;
  for (size_t k = 0; k < w.samples.size(); ++k) {
    if (index_.StepAt(w.start + static_cast<int64_t>(k)) !=
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
  co_return todo;
}

// A lost answer is retried by the client: registering again answers
// ALREADY_EXISTS with the ids of what the lost attempt registered
// (ApplyRegistered).
boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> UploadJob::RegisterBatch(
    const std::vector<ItemRegistration>& items, bool storage, const std::string& storage_slug) {
  // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
  absl::StatusOr<std::vector<RegisteredItem>> result;
  if (storage) {
    result = co_await guard_.Fenced<absl::StatusOr<std::vector<RegisteredItem>>>([&] {
      return client_->RegisterExisting(run_.darwin().dataset_slug(), storage_slug, items);
    });
  } else {
    result = co_await guard_.Fenced<absl::StatusOr<std::vector<RegisteredItem>>>(
        [&] { return client_->RegisterUpload(run_.darwin().dataset_slug(), items); });
  }
  co_return result;
}

// Fails the samples whose server path the tenant may not read (the upload
// would refuse them), so that V7 never gets an item for them; registers the
// others in batches by kind.
boost::asio::awaitable<absl::Status> UploadJob::RegisterWindow(Window& w) {
  const std::vector<size_t> todo = co_await RefuseForbiddenPaths(w);
  if (absl::Status stopped = guard_.StopStatus(); !stopped.ok()) co_return stopped;
  for (const RegistrationBatch& batch : RegistrationBatches(
           w.samples, todo, run_.darwin().external_storage(), options_.register_batch_size)) {
    std::vector<ItemRegistration> items;
    for (size_t k : batch.members) items.push_back(RegistrationOf(w.samples[k], run_.uid()));
    absl::StatusOr<std::vector<RegisteredItem>> result =
        co_await RegisterBatch(items, batch.storage, batch.storage_slug);
    if (!result.ok()) co_return result.status();
    if (result->size() != batch.members.size())
      co_return absl::InternalError(absl::StrFormat("V7 registration answered %d items for %d sent",
                                                    result->size(), batch.members.size()));
    std::vector<SampleProgress> saved;
    std::vector<int64_t> resumed;
    for (size_t m = 0; m < batch.members.size(); ++m) {
      SampleProgress& p = w.records[batch.members[m]];
      if (ApplyRegistered((*result)[m], batch.storage, &p)) resumed.push_back(p.position());
      saved.push_back(p);
    }
    absl::Status s = co_await SaveAndIndex(std::move(saved));
    if (!s.ok()) co_return s;
    for (int64_t i : resumed) index_.SetFlag(i, UploadIndex::kResumed);
  }
  co_return absl::OkStatus();
}

// Items whose last step may not have been recorded (a crash between V7's
// answer and the journal) are re-read from V7, kJournalWindow at a time.
boost::asio::awaitable<absl::Status> UploadJob::RefreshResumed() {
  const int64_t n = index_.size();
  for (int64_t from = 0; from < n;) {
    const std::vector<int64_t> check =
        index_.PositionsAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED, from, n, kJournalWindow,
                           UploadIndex::kResumed);
    if (check.empty()) break;
    from = check.back() + 1;
    auto records = co_await FetchRecords(check);
    if (!records.ok()) co_return records.status();
    auto items = co_await client_->ListItems(state_.dataset_id(), ItemIdsOf(*records));
    if (!items.ok()) co_return items.status();
    const auto by_id = ItemsById(*items);
    std::vector<std::string> orphans;
    for (SampleProgress& p : *records) {
      auto it = by_id.find(p.item_id());
      std::optional<std::string> orphan =
          ApplyResumedItem(it == by_id.end() ? nullptr : it->second, &p);
      if (orphan.has_value()) orphans.push_back(*std::move(orphan));
    }
    if (!orphans.empty()) {
      absl::Status deleted = co_await guard_.Fenced<absl::Status>(
          [&] { return client_->DeleteItems(state_.dataset_id(), orphans); });
      if (!deleted.ok()) co_return deleted;
    }
    absl::Status s = co_await SaveAndIndex(*std::move(records));
    if (!s.ok()) co_return s;
  }
  // Anything reset to UNSPECIFIED is registered again.
  if (!index_.PositionsAt(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED, 0, n, 1).empty()) {
    index_.ClearFlagEverywhere(UploadIndex::kResumed);
    co_return co_await Register();
  }
  co_return absl::OkStatus();
}

// ---- 3. upload ----------------------------------------------------------------

// Uploads every registered sample (the workers take them in position order,
// reading each sample and record when they start on it), then tells the
// processing wait that no more items will become UPLOADED.
boost::asio::awaitable<void> UploadJob::UploadAll() {
  const size_t todo = index_.CountAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED);
  int64_t cursor = 0;  // guarded by the index (NextAt)
  co_await common::ParallelFor(
      todo, options_.upload_concurrency, [&](size_t) -> boost::asio::awaitable<void> {
        const std::optional<int64_t> i =
            index_.NextAt(labelport::internal::v1::SAMPLE_STEP_REGISTERED, &cursor);
        if (i.has_value()) co_await UploadOne(*i);
      });
  uploads_done_.store(true);
}

boost::asio::awaitable<std::optional<UploadJob::Window>> UploadJob::LoadOne(int64_t i) {
  if (guard_.Stopped()) co_return std::nullopt;
  absl::StatusOr<Window> window = co_await LoadWindow(i, 1);
  if (!window.ok() || window->samples.empty()) co_return std::nullopt;
  co_return *std::move(window);
}

boost::asio::awaitable<bool> UploadJob::SampleV7Call(
    const SampleProgress& record, absl::string_view stage,
    std::function<boost::asio::awaitable<absl::Status>()> call) {
  absl::Status s =
      co_await guard_.OutageTolerant<absl::Status>([&]() -> boost::asio::awaitable<absl::Status> {
        co_return co_await guard_.Fenced<absl::Status>(call);
      });
  if (guard_.Stopped()) co_return false;
  if (!s.ok()) {
    co_await Fail(record, stage, s.message());
    co_return false;
  }
  co_return true;
}

boost::asio::awaitable<void> UploadJob::UploadOne(int64_t i) {
  std::optional<Window> window = co_await LoadOne(i);
  if (!window.has_value()) co_return;  // the job stopped
  const v1::Sample& sample = window->samples.front();
  SampleProgress record = window->records.front();
  auto media = co_await OpenMedia(sample.media(), *http_, options_.media_dir, options_.temp_dir,
                                  absl::Now() + options_.media_fetch_timeout, options_.media_paths,
                                  options_.media_fetch);
  if (!media.ok()) {
    co_await Fail(record, "upload", media.status().message());
    co_return;
  }
  const std::string upload_id = record.upload_id();
  // Sign, PUT, confirm (the client retries each call); a call that exhausts
  // its retries fails the sample, unless V7 is down: then the upload waits.
  const MediaSource& source = **media;
  // Sign, PUT and confirm only while this worker holds the lease.
  if (!co_await SampleV7Call(record, "upload", [&] {
        return client_->Upload(upload_id, source.body_factory(), source.size_bytes());
      }))
    co_return;
  // Recorded before the step is visible to the processing wait (which runs
  // meanwhile), so the wait's PROCESSED record is always written after it.
  record.set_step(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
  absl::Status saved = co_await grouped_saves_.Save(record);
  if (!saved.ok()) co_return;  // the job stopped
  index_.Index(record);
}

// ---- 4. processing --------------------------------------------------------------

// Polls V7 until every UPLOADED item is processed (or failed), while the
// uploads still run and after. Each processed item is recorded before its
// import is queued; samples without labels are recorded as imported. The
// processing timeout counts from the end of the uploads.
boost::asio::awaitable<absl::Status> UploadJob::WaitForProcessing() {
  std::optional<absl::Time> deadline;
  // V7's down time when the deadline was set: time V7 is down later
  // extends it.
  absl::Duration down_before_deadline;
  absl::Duration delay = options_.poll_initial;
  absl::Time last_poll = absl::InfinitePast();
  absl::Status last_poll_error;
  while (true) {
    if (absl::Status stopped = guard_.StopStatus(); !stopped.ok()) co_return stopped;
    const bool uploading = !uploads_done_.load();
    const size_t waiting = index_.CountAt(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
    if (waiting == 0 && !uploading) co_return absl::OkStatus();
    if (!ShouldPollNow(uploading, waiting, absl::Now() - last_poll, options_.poll_max)) {
      co_await PauseFor(options_.poll_initial);
      continue;
    }
    if (!uploading && !deadline.has_value()) {
      deadline = absl::Now() + options_.processing_timeout;
      down_before_deadline = guard_.outage().DownTime();
    }
    last_poll = absl::Now();
    size_t changed = 0;
    absl::Status polled;
    if (waiting <= kPollByIdsMax) {
      polled = co_await PollByIds(&changed);
    } else {
      polled = co_await PollDataset(&changed);
    }
    if (absl::Status stopped = guard_.StopStatus(); !stopped.ok()) co_return stopped;
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
        ProcessingTimedOut(absl::Now() + delay, *deadline,
                           guard_.outage().DownTime() - down_before_deadline))
      co_return ProcessingTimeout(waiting, options_.processing_timeout, last_poll_error);
    co_await PauseFor(delay);
    delay = std::min(options_.poll_max, delay * 1.5);
  }
}

// Asks V7 for the (at most kPollByIdsMax) waiting items by id.
boost::asio::awaitable<absl::Status> UploadJob::PollByIds(size_t* changed) {
  const std::vector<int64_t> positions = index_.PositionsAt(
      labelport::internal::v1::SAMPLE_STEP_UPLOADED, 0, index_.size(), kPollByIdsMax);
  auto records = co_await FetchRecords(positions);
  if (!records.ok()) co_return records.status();
  const std::vector<std::string> ids = ItemIdsOf(*records);
  co_return co_await guard_.OutageTolerant<absl::Status>(
      [&]() -> boost::asio::awaitable<absl::Status> {
        auto items = co_await client_->ListItems(state_.dataset_id(), ids);
        if (!items.ok()) co_return items.status();
        co_return co_await ApplyPolled(*records, *items, changed);
      });
}

// Lists the dataset page by page and matches each page's items with the
// waiting samples by the hash of their item id (then by the id itself, in
// their records).
boost::asio::awaitable<absl::Status> UploadJob::PollDataset(size_t* changed) {
  const std::vector<uint32_t> by_hash =
      index_.PositionsByItemHash(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
  DarwinClient::ItemPageSink on_page =
      [this, &by_hash,
       changed](std::vector<DarwinItem> page) -> boost::asio::awaitable<absl::Status> {
    const std::vector<std::pair<int64_t, size_t>> matches = index_.MatchItems(by_hash, page);
    if (matches.empty()) co_return absl::OkStatus();
    std::vector<int64_t> positions;
    positions.reserve(matches.size());
    for (const auto& [position, j] : matches) positions.push_back(position);
    auto records = co_await FetchRecords(positions);
    if (!records.ok()) co_return records.status();
    co_return co_await ApplyPolled(*records, page, changed);
  };
  co_return co_await guard_.OutageTolerant<absl::Status>(
      [&] { return client_->ListItemPages(state_.dataset_id(), {}, on_page); });
}

// Records what V7 says of the items of waiting samples (`records`, read
// from the journal): processed items are saved PROCESSED (queued for
// import) or, without labels, LABELS_IMPORTED; failed ones fail.
boost::asio::awaitable<absl::Status> UploadJob::ApplyPolled(
    const std::vector<SampleProgress>& records, const std::vector<DarwinItem>& items,
    size_t* changed) {
  const auto by_id = ItemsById(items);
  std::vector<SampleProgress> done;
  std::vector<int64_t> to_import;
  for (const SampleProgress& record : records) {
    const int64_t i = record.position();
    if (index_.StepAt(i) != labelport::internal::v1::SAMPLE_STEP_UPLOADED) continue;
    auto it = by_id.find(record.item_id());
    if (it == by_id.end()) continue;
    const DarwinItem& item = *it->second;
    const PolledItem polled = Classify(item);
    if (polled == PolledItem::kFailed) {
      co_await Fail(record, "process", ProcessingFailure(item));
      continue;
    }
    if (polled == PolledItem::kWaiting) continue;
    // Nothing to import: the sample is complete once processed.
    const bool has_labels = index_.HasLabelsAt(i);
    if (has_labels) to_import.push_back(i);
    done.push_back(ProcessedRecord(record, item, has_labels));
  }
  if (absl::Status stopped = guard_.StopStatus(); !stopped.ok()) co_return stopped;
  if (done.empty()) co_return absl::OkStatus();
  const size_t n = done.size();
  absl::Status s = co_await SaveAndIndex(std::move(done));
  if (!s.ok()) co_return s;
  *changed += n;
  QueueImports(to_import);
  co_return absl::OkStatus();
}

// ---- 5. classes and properties -----------------------------------------------

boost::asio::awaitable<absl::Status> UploadJob::EnsureClasses() {
  const std::set<ClassKey> required = RequiredClasses(run_.label_schema(), sample_classes_);
  if (AnyClassMissing(required, state_.class_ids())) {
    auto classes = co_await client_->ListAnnotationClasses();
    if (!classes.ok()) co_return classes.status();
    for (const auto& key : required) {
      const std::string k = ClassKeyString(key.first, key.second);
      if (state_.class_ids().contains(k)) continue;
      absl::StatusOr<int64_t> id = co_await EnsureClass(key, *classes);
      if (!id.ok()) co_return id.status();
      (*state_.mutable_class_ids())[k] = *id;
    }
    absl::Status s = co_await SaveState();
    if (!s.ok()) co_return s;
  }
  co_return co_await EnsureProperties();
}

// The id of the class `key`: found in `classes` (and enabled in the
// dataset), or created.
boost::asio::awaitable<absl::StatusOr<int64_t>> UploadJob::EnsureClass(
    const ClassKey& key, const std::vector<DarwinClass>& classes) {
  const DarwinClass* found = FindClass(classes, key);
  if (found == nullptr) co_return co_await CreateClass(key);
  // The raster layer class is global to the team (darwin-api §8.1).
  if (key.second != "raster_layer" && !InDataset(*found, state_.dataset_id())) {
    absl::Status s = co_await guard_.Fenced<absl::Status>(
        [&] { return client_->AddClassToDataset(*found, state_.dataset_id()); });
    if (!s.ok()) co_return s;
  }
  co_return found->id;
}

boost::asio::awaitable<absl::StatusOr<int64_t>> UploadJob::CreateClass(const ClassKey& key) {
  const std::vector<std::string> types = ClassTypesOf(run_.label_schema(), key);
  // A lost answer is looked up by the client before it creates again.
  auto created = co_await guard_.Fenced<absl::StatusOr<DarwinClass>>([&] {
    return client_->CreateAnnotationClass(state_.dataset_id(), key.first, types,
                                          ClassMetadataOf(run_.label_schema(), key));
  });
  if (created.ok() && !InDataset(*created, state_.dataset_id())) {
    // Found by that lookup, created by another run meanwhile.
    absl::Status s = co_await guard_.Fenced<absl::Status>(
        [&] { return client_->AddClassToDataset(*created, state_.dataset_id()); });
    if (!s.ok()) co_return s;
  }
  if (created.status().code() == absl::StatusCode::kAlreadyExists) {
    // Another run (or our lost attempt) created it meanwhile: look it up.
    auto again = co_await client_->ListAnnotationClasses();
    if (!again.ok()) co_return again.status();
    if (const DarwinClass* found = FindClass(*again, key); found != nullptr) {
      created = *found;
      absl::Status s = co_await guard_.Fenced<absl::Status>(
          [&] { return client_->AddClassToDataset(*found, state_.dataset_id()); });
      if (!s.ok()) co_return s;
    }
  }
  if (!created.ok()) co_return created.status();
  co_return created->id;
}

boost::asio::awaitable<absl::Status> UploadJob::EnsureProperties() {
  for (const auto& field : run_.label_schema().fields()) {
    const std::string type = DarwinTypeOfField(field);
    for (const auto& name : ClassNamesOf(field)) {
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

boost::asio::awaitable<absl::Status> UploadJob::EnsureProperty(int64_t class_id,
                                                               const v1::AttributeSpec& spec) {
  auto key = std::make_pair(class_id, spec.name());
  if (properties_.contains(key)) co_return absl::OkStatus();
  if (!class_properties_.contains(class_id)) {
    auto listed = co_await client_->ListProperties(class_id);
    if (!listed.ok()) co_return listed.status();
    class_properties_[class_id] = *std::move(listed);
  }
  const std::vector<std::string> wanted = WantedValues(spec);
  const DarwinProperty* existing = nullptr;
  for (const auto& p : class_properties_[class_id])
    if (p.name == spec.name()) existing = &p;
  DarwinProperty property;
  if (existing == nullptr) {
    const PropertyDefinition def = PropertyDefinitionOf(spec, class_id, wanted);
    auto created = co_await guard_.Fenced<absl::StatusOr<DarwinProperty>>(
        [&] { return client_->CreateProperty(def); });
    if (!created.ok()) co_return created.status();
    property = *std::move(created);
  } else {
    property = *existing;
  }
  // A property found rather than created (by the client after a lost
  // answer, or listed above) may lack values; only those are added.
  const std::vector<std::string> missing = MissingValues(property, wanted);
  if (!missing.empty()) {
    auto updated = co_await guard_.Fenced<absl::StatusOr<DarwinProperty>>(
        [&] { return client_->AddPropertyValues(property, missing); });
    if (!updated.ok()) co_return updated.status();
    property = *std::move(updated);
  }
  properties_[key] = Resolve(property);
  co_return absl::OkStatus();
}

// ---- 6. labels ------------------------------------------------------------------

// Classes, then the processing wait feeding `import_concurrency` import
// workers through a queue. Samples already PROCESSED (a resumed run) are
// queued first. Completes when the wait has ended and the queue is empty.
boost::asio::awaitable<absl::Status> UploadJob::ProcessAndImport() {
  import_wake_.emplace(co_await boost::asio::this_coro::executor, 1);
  absl::StatusOr<std::vector<int64_t>> with_labels = co_await SettleProcessed();
  if (!with_labels.ok()) co_return with_labels.status();
  absl::Status s = co_await guard_.OutageTolerant<absl::Status>([this] { return EnsureClasses(); });
  // No import can start without the classes: the run fails once the uploads
  // end; a resume polls the uploaded items again.
  if (!s.ok()) co_return s;
  QueueImports(*with_labels);
  with_labels = std::vector<int64_t>{};
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

boost::asio::awaitable<absl::StatusOr<std::vector<int64_t>>> UploadJob::SettleProcessed() {
  std::vector<int64_t> with_labels;
  const int64_t n = index_.size();
  for (int64_t from = 0; from < n;) {
    const std::vector<int64_t> processed =
        index_.PositionsAt(labelport::internal::v1::SAMPLE_STEP_PROCESSED, from, n, kJournalWindow);
    if (processed.empty()) break;
    from = processed.back() + 1;
    std::vector<int64_t> without_labels;
    for (int64_t i : processed) (index_.HasLabelsAt(i) ? with_labels : without_labels).push_back(i);
    if (without_labels.empty()) continue;
    auto records = co_await FetchRecords(without_labels);
    if (!records.ok()) co_return records.status();
    for (SampleProgress& p : *records)
      p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
    absl::Status s = co_await SaveAndIndex(*std::move(records));
    if (!s.ok()) co_return s;
  }
  co_return with_labels;
}

boost::asio::awaitable<absl::Status> UploadJob::WaitThenCloseQueue() {
  absl::Status s = co_await WaitForProcessing();
  CloseImportQueue();
  co_return s;
}

void UploadJob::QueueImports(const std::vector<int64_t>& positions) {
  if (positions.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    for (int64_t i : positions) import_queue_.push_back(i);
  }
  Wake();
}

// No more samples will be queued.
void UploadJob::CloseImportQueue() {
  {
    absl::MutexLock lock(&mu_);
    import_queue_closed_ = true;
  }
  Wake();
}

// The channel holds at most one wake-up, so a signal sent before a worker
// waits is not lost; a woken worker passes it on while work (or the close)
// remains for the others.
void UploadJob::Wake() { (void)import_wake_->try_send(boost::system::error_code{}); }

boost::asio::awaitable<void> UploadJob::ImportWorkers() {
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

boost::asio::awaitable<void> UploadJob::ImportOne(int64_t i) {
  std::optional<Window> window = co_await LoadOne(i);
  if (!window.has_value()) co_return;  // the job stopped
  const v1::Sample& sample = window->samples.front();
  SampleProgress p = window->records.front();
  absl::StatusOr<EncodedLabels> encoded =
      EncodeSampleLabels(sample, p, run_, state_.class_ids(), properties_);
  if (!encoded.ok()) {
    co_await Fail(p, "import_labels", encoded.status().message());
    co_return;
  }
  const boost::json::array& annotations = encoded->annotations;
  const std::vector<AnnotationLink>& links = encoded->links;
  absl::Status s = co_await guard_.Durably<absl::Status>("save annotation links",
                                                         [&] { return journal_.SaveLinks(links); });
  if (!s.ok()) co_return;  // the job stopped
  // Overwrite with deterministic ids: the client repeats a lost import. One
  // that exhausts its retries fails the sample, unless V7 is down: then the
  // import waits for it.
  if (!co_await SampleV7Call(p, "import_labels", [&] {
        return client_->ImportAnnotations(p.item_id(), annotations, /*overwrite=*/true);
      }))
    co_return;
  p.set_step(labelport::internal::v1::SAMPLE_STEP_LABELS_IMPORTED);
  absl::Status saved = co_await grouped_saves_.Save(p);
  if (saved.ok()) index_.Index(p);  // an error stopped the job
}

}  // namespace labelport::backend::darwin
