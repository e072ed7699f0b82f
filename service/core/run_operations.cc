#include "service/core/run_operations.h"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/common/await_on_pool.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/ordered_parallel_map.h"
#include "service/core/label_merge.h"
#include "service/core/label_types.h"
#include "service/core/limits.h"
#include "service/core/resource_names.h"
#include "service/core/store_upload_journal.h"

namespace labelport::core {
namespace {

namespace v1 = labelport::v1;

constexpr int kMaxReportedSkips = 1000;
// Merged samples buffered before they are written to the load's stage.
constexpr size_t kStageBatch = 200;

// The destination field of each schema field (FiftyOne's dest_field rules).
absl::StatusOr<std::map<std::string, std::string>> Destinations(
    const v1::LabelSchema& schema, const v1::LoadAnnotationsRequest& request,
    std::vector<std::string>* warnings) {
  std::map<std::string, std::string> out;
  for (const auto& f : schema.fields()) out[f.field()] = f.field();
  if (!request.dest_field().empty()) {
    if (request.dest_field().size() > kMaxNameLength)
      return common::InvalidArgument(
          "dest_field", "DEST_FIELD_INVALID",
          absl::StrFormat("Destination '%s' is longer than %d bytes",
                          common::Excerpt(request.dest_field()), kMaxNameLength));
    if (schema.fields_size() == 1) {
      out[schema.fields(0).field()] = request.dest_field();
    } else {
      warnings->push_back(absl::StrFormat(
          "Ignoring string `dest_field=%s` since the label schema contains %d (> 1) fields",
          common::Excerpt(request.dest_field()), schema.fields_size()));
    }
  }
  for (const auto& [from, to] : request.dest_fields()) {
    const std::string path = absl::StrCat("dest_fields[", common::Excerpt(from), "]");
    if (!out.contains(from))
      return common::InvalidArgument(
          path, "DEST_FIELD_UNKNOWN",
          absl::StrFormat("dest_fields names '%s', which is not a field of the run",
                          common::Excerpt(from)));
    if (to.empty() || to.size() > kMaxNameLength || IsFrameField(to) != IsFrameField(from))
      return common::InvalidArgument(
          path, "DEST_FIELD_INVALID",
          absl::StrFormat("Destination '%s' for field '%s' must be non-empty, at most %d bytes "
                          "long and of the same level (frame or sample) as the field",
                          common::Excerpt(to), from, kMaxNameLength));
    out[from] = to;
  }
  return out;
}

// The entry of `field` in `sample`, added when it has none.
v1::SampleField* MutableSampleField(v1::Sample& sample, const std::string& field) {
  for (auto& f : *sample.mutable_fields())
    if (f.field() == field) return &f;
  auto* f = sample.add_fields();
  f->set_field(field);
  return f;
}

// The entry of `field` in `sample`, or nullptr.
const v1::SampleField* FindSampleField(const v1::Sample& sample, const std::string& field) {
  for (const auto& f : sample.fields())
    if (f.field() == field) return &f;
  return nullptr;
}

std::vector<v1::FrameFieldValue> FramesOf(const v1::Sample& sample, const std::string& field) {
  const v1::SampleField* f = FindSampleField(sample, field);
  if (f == nullptr) return {};
  return {f->frames().begin(), f->frames().end()};
}

int64_t LabelCount(const v1::FieldValue& l) {
  return l.detections().detections_size() + l.polylines().polylines_size() +
         l.keypoints().keypoints_size() + l.classifications().classifications_size();
}

bool IsEmptyValue(const v1::FieldValue& v) {
  switch (v.value_case()) {
    case v1::FieldValue::VALUE_NOT_SET:
      return true;
    case v1::FieldValue::kClassifications:
      return v.classifications().classifications_size() == 0;
    case v1::FieldValue::kDetections:
      return v.detections().detections_size() == 0;
    case v1::FieldValue::kPolylines:
      return v.polylines().polylines_size() == 0;
    case v1::FieldValue::kKeypoints:
      return v.keypoints().keypoints_size() == 0;
    default:
      return false;
  }
}

const v1::FieldValue& FieldValueOf(const v1::Sample& sample, const std::string& field) {
  const v1::SampleField* f = FindSampleField(sample, field);
  return f == nullptr ? v1::FieldValue::default_instance() : f->value();
}

// Turns each loaded sample into change messages and the new baseline.
//
// The merge of a sample (merge each field against its stored baseline,
// build the change messages) is CPU work that runs on the CPU pool; the
// outcomes are applied in load order on the loading coroutine (summary
// counts, warnings, emit, staging), so the stream is ordered and
// deterministic.
class MergingSink : public backend::LoadSink {
 public:
  MergingSink(const v1::AnnotationRun& run, std::map<std::string, std::string> destinations,
              RunOperations::Emit emit, store::RunStore* store,
              boost::asio::thread_pool* store_pool, std::string stage_id, common::CpuPool* cpu_pool)
      : run_(run),
        destinations_(std::move(destinations)),
        emit_(std::move(emit)),
        store_(store),
        store_pool_(store_pool),
        stage_id_(std::move(stage_id)),
        merges_(
            cpu_pool, /*window=*/4 * (cpu_pool == nullptr ? 1 : cpu_pool->threads()),
            [this](backend::LoadedSample loaded) { return Merge(std::move(loaded)); },
            [this](absl::StatusOr<MergedSample> merged) -> boost::asio::awaitable<absl::Status> {
              if (!merged.ok()) co_return merged.status();
              co_return co_await Apply(*std::move(merged));
            }) {
    for (const auto& f : run.label_schema().fields()) {
      auto* s = summary_.add_fields();
      s->set_field(f.field());
      field_summary_[f.field()] = s;
    }
  }

  boost::asio::awaitable<absl::Status> OnProgress(v1::LoadProgress progress) override {
    // The changes of the samples before this point go out first.
    absl::Status s = co_await merges_.Finish();
    if (!s.ok()) co_return s;
    v1::LoadAnnotationsResponse r;
    *r.mutable_progress() = std::move(progress);
    co_return co_await emit_(std::move(r));
  }

  boost::asio::awaitable<absl::Status> OnSample(backend::LoadedSample loaded) override {
    co_return co_await merges_.Push(std::move(loaded));
  }

  // Applies the merges still in flight and writes the buffered baselines to
  // the load's stage.
  boost::asio::awaitable<absl::Status> Flush() {
    absl::Status s = co_await merges_.Finish();
    if (!s.ok()) co_return s;
    co_return co_await FlushStage();
  }

  // Waits for the merges in flight and drops them (a failed or cancelled
  // load); the sink must not be used afterwards.
  boost::asio::awaitable<void> Drain() { co_await merges_.Drain(); }

  void OnSkipped(v1::SkippedEntry skipped) override {
    if (summary_.skipped_size() < kMaxReportedSkips) *summary_.add_skipped() = std::move(skipped);
  }

  v1::LoadSummary& summary() { return summary_; }

 private:
  // What merging one field of one sample produced: its change messages (one
  // for a sample-level field, one per frame for a frame-level field) and
  // counts for the summary.
  struct FieldOutcome {
    std::string field;
    std::vector<v1::LoadAnnotationsResponse> messages;
    int64_t added = 0, edited = 0, deleted = 0, unchanged = 0, unexpected = 0;
    int64_t ignored_added = 0, ignored_deleted = 0;

    void Count(const FieldMerge& merge) {
      added += static_cast<int64_t>(merge.added.size());
      edited += static_cast<int64_t>(merge.edited.size());
      deleted += static_cast<int64_t>(merge.deleted.size());
      unchanged += merge.unchanged;
      ignored_added += merge.ignored_added;
      ignored_deleted += merge.ignored_deleted;
    }
  };
  struct MergedSample {
    int64_t position = 0;
    v1::Sample baseline;  // the new baseline
    std::vector<FieldOutcome> fields;
  };

  // Runs on the CPU pool: reads only the run and the schema, and changes
  // nothing shared. The baseline is the stored sample the backend decoded
  // against (no second read of the store).
  absl::StatusOr<MergedSample> Merge(backend::LoadedSample loaded) const {
    if (loaded.stored.id() != loaded.sample_id)
      return absl::InternalError(absl::StrCat("the backend loaded sample '", loaded.sample_id,
                                              "' without its stored version"));
    MergedSample out;
    out.position = loaded.position;
    out.baseline = std::move(loaded.stored);
    for (auto& field : loaded.fields) {
      const v1::FieldSchema* schema = SchemaOf(field.field);
      if (schema == nullptr) continue;
      const std::string& dest = destinations_.at(field.field);
      const bool as_new = dest != field.field;
      FieldOutcome outcome;
      outcome.field = field.field;
      if (IsFrameField(field.field)) {
        MergeFrames(loaded.sample_id, *schema, dest, as_new, std::move(field), out.baseline,
                    outcome);
      } else {
        MergeSampleField(loaded.sample_id, *schema, dest, as_new, std::move(field), out.baseline,
                         outcome);
      }
      out.fields.push_back(std::move(outcome));
    }
    return out;
  }

  // A sample-level field: one change message, or none when the field held no
  // labels before and V7 holds none either (a client that merges an empty
  // change into an empty field would turn "no value" into an empty container).
  static void MergeSampleField(const std::string& sample_id, const v1::FieldSchema& schema,
                               const std::string& dest, bool as_new, backend::LoadedField field,
                               v1::Sample& baseline, FieldOutcome& outcome) {
    if (IsEmptyValue(FieldValueOf(baseline, dest)) && IsEmptyValue(field.downloaded) &&
        field.unexpected.empty())
      return;
    FieldMerge merge =
        MergeFieldValue(schema, FieldValueOf(baseline, dest), field.downloaded, as_new);
    outcome.Count(merge);
    v1::LoadAnnotationsResponse r;
    auto* c = r.mutable_changes();
    c->set_sample_id(sample_id);
    c->set_field(field.field);
    c->set_dest_field(dest);
    c->set_return_type(*ReturnTypeOf(schema.type()));
    *c->mutable_downloaded() = std::move(field.downloaded);
    *c->mutable_merged() = merge.merged;
    for (auto& id : merge.added) c->add_added_ids(std::move(id));
    for (auto& id : merge.edited) c->add_edited_ids(std::move(id));
    for (auto& id : merge.deleted) c->add_deleted_ids(std::move(id));
    for (auto& u : field.unexpected) {
      outcome.unexpected += LabelCount(u.labels());
      *c->add_unexpected() = std::move(u);
    }
    *MutableSampleField(baseline, dest)->mutable_value() = std::move(merge.merged);
    outcome.messages.push_back(std::move(r));
  }

  // A frame-level field: the track update and merge run over all of the
  // sample's frames at once; one change message per frame that has labels
  // before or after, in frame order.
  static void MergeFrames(const std::string& sample_id, const v1::FieldSchema& schema,
                          const std::string& dest, bool as_new, backend::LoadedField field,
                          v1::Sample& baseline, FieldOutcome& outcome) {
    std::vector<FrameMerge> frames =
        MergeFrameFieldValues(schema, FramesOf(baseline, dest), std::move(field.frames), as_new);
    v1::SampleField* target = MutableSampleField(baseline, dest);
    target->clear_value();
    target->clear_frames();
    const std::string return_type = *ReturnTypeOf(schema.type());
    // Labels of other types, per frame; frames with only those get a message
    // too, in frame order.
    std::map<int32_t, std::vector<v1::UnexpectedLabels>> unexpected;
    for (auto& u : field.frame_unexpected) {
      auto it = std::find_if(frames.begin(), frames.end(),
                             [&](const FrameMerge& f) { return f.frame_number == u.frame_number; });
      if (it == frames.end()) {
        FrameMerge only;
        only.frame_number = u.frame_number;
        only.frame_id = u.frame_id;
        frames.push_back(std::move(only));
      }
      unexpected[u.frame_number].push_back(std::move(u.labels));
    }
    std::sort(frames.begin(), frames.end(), [](const FrameMerge& a, const FrameMerge& b) {
      return a.frame_number < b.frame_number;
    });
    for (auto& frame : frames) {
      outcome.Count(frame.merge);
      if (!IsEmptyValue(frame.merge.merged)) {
        v1::FrameFieldValue* kept = target->add_frames();
        kept->set_frame_number(frame.frame_number);
        kept->set_frame_id(frame.frame_id);
        *kept->mutable_value() = frame.merge.merged;
      }
      v1::LoadAnnotationsResponse r;
      auto* c = r.mutable_changes();
      c->set_sample_id(sample_id);
      c->set_field(field.field);
      c->set_dest_field(dest);
      c->set_frame_number(frame.frame_number);
      c->set_frame_id(frame.frame_id);
      c->set_return_type(return_type);
      *c->mutable_downloaded() = std::move(frame.downloaded);
      *c->mutable_merged() = std::move(frame.merge.merged);
      for (auto& id : frame.merge.added) c->add_added_ids(std::move(id));
      for (auto& id : frame.merge.edited) c->add_edited_ids(std::move(id));
      for (auto& id : frame.merge.deleted) c->add_deleted_ids(std::move(id));
      for (auto& u : unexpected[frame.frame_number]) {
        outcome.unexpected += LabelCount(u.labels());
        *c->add_unexpected() = std::move(u);
      }
      outcome.messages.push_back(std::move(r));
    }
  }

  // Runs on the loading coroutine, in load order.
  boost::asio::awaitable<absl::Status> Apply(MergedSample merged) {
    for (FieldOutcome& f : merged.fields) {
      v1::FieldLoadSummary* s = field_summary_.at(f.field);
      s->set_added(s->added() + f.added);
      s->set_edited(s->edited() + f.edited);
      s->set_deleted(s->deleted() + f.deleted);
      s->set_unchanged(s->unchanged() + f.unchanged);
      s->set_ignored(s->ignored() + f.ignored_added + f.ignored_deleted);
      s->set_unexpected(s->unexpected() + f.unexpected);
      if (f.ignored_added > 0)
        common::LogWarning(
            absl::StrFormat("Ignored %d added labels in field '%s' because `allow_additions=False`",
                            f.ignored_added, f.field));
      if (f.ignored_deleted > 0)
        common::LogWarning(absl::StrFormat(
            "Ignored %d deleted labels in field '%s' because `allow_deletions=False`",
            f.ignored_deleted, f.field));
      for (auto& message : f.messages) {
        absl::Status st = co_await emit_(std::move(message));
        if (!st.ok()) co_return st;
      }
    }
    pending_.emplace_back(merged.position, std::move(merged.baseline));
    if (pending_.size() >= kStageBatch) co_return co_await FlushStage();
    co_return absl::OkStatus();
  }

  // Writes the buffered baselines to the load's stage (bounded memory), on
  // the store pool.
  boost::asio::awaitable<absl::Status> FlushStage() {
    if (pending_.empty()) co_return absl::OkStatus();
    auto stage = [this] { return store_->StageSamples(run_.uid(), stage_id_, pending_); };
    absl::Status s = co_await common::AwaitOnPool(*store_pool_, std::move(stage));
    pending_.clear();
    co_return s;
  }

  const v1::FieldSchema* SchemaOf(const std::string& field) const {
    for (const auto& f : run_.label_schema().fields())
      if (f.field() == field) return &f;
    return nullptr;
  }

  const v1::AnnotationRun& run_;
  const std::map<std::string, std::string> destinations_;
  RunOperations::Emit emit_;
  v1::LoadSummary summary_;
  std::map<std::string, v1::FieldLoadSummary*> field_summary_;
  store::RunStore* store_;
  boost::asio::thread_pool* store_pool_;
  std::string stage_id_;
  std::vector<std::pair<int64_t, v1::Sample>> pending_;
  // Declared last: its work on the CPU pool uses the members above.
  common::OrderedParallelMap<backend::LoadedSample, absl::StatusOr<MergedSample>> merges_;
};

}  // namespace

RunOperations::RunOperations(store::RunStore* store, backend::BackendProvider* backends,
                             common::Metrics* metrics, common::CpuPool* cpu_pool,
                             boost::asio::thread_pool* store_pool)
    : store_(store),
      backends_(backends),
      metrics_(metrics != nullptr ? metrics : &common::NoMetrics()),
      cpu_pool_(cpu_pool),
      own_store_pool_(store_pool == nullptr ? std::make_unique<boost::asio::thread_pool>(2)
                                            : nullptr),
      store_pool_(store_pool != nullptr ? store_pool : own_store_pool_.get()) {}

boost::asio::awaitable<absl::StatusOr<v1::AnnotationRun>> RunOperations::RunFor(
    const std::string& tenant, const std::string& name) {
  auto parsed = ParseRunName(name, "name");
  if (!parsed.ok()) co_return parsed.status();
  auto get = [this, key = store::RunKey{tenant, parsed->dataset, parsed->anno_key}] {
    return store_->GetRun(key);
  };
  co_return co_await common::AwaitOnPool(*store_pool_, std::move(get));
}

boost::asio::awaitable<absl::Status> RunOperations::LoadAnnotations(
    std::string tenant, v1::LoadAnnotationsRequest request, Emit emit) {
  auto run = co_await RunFor(tenant, request.name());
  if (!run.ok()) co_return run.status();
  auto backend = backends_->BackendFor(tenant);
  if (!backend.ok()) co_return backend.status();
  if (run->state() != v1::RUN_STATE_ANNOTATING && run->state() != v1::RUN_STATE_FAILED)
    co_return common::WithDetails(
        absl::FailedPreconditionError(
            absl::StrFormat("Run '%s' is %s; annotations can be loaded once it is ANNOTATING",
                            request.name(), v1::RunState_Name(run->state()))),
        "name", "RUN_NOT_READY");
  std::vector<std::string> warnings;
  auto destinations = Destinations(run->label_schema(), request, &warnings);
  if (!destinations.ok()) co_return destinations.status();
  for (const auto& w : warnings) common::LogWarning(w);

  // The journal's store calls run on the store pool (never on this I/O thread).
  StoreUploadJournal journal(store_, *run, /*fence=*/nullptr, store_pool_);
  absl::Status s;
  // The new baselines are staged as the load goes and applied only when it
  // has succeeded.
  const std::string stage_id = absl::StrCat("load-", absl::ToUnixNanos(absl::Now()));
  MergingSink sink(*run, *std::move(destinations), emit, store_, store_pool_, stage_id, cpu_pool_);
  auto discard = [&] { return store_->DiscardStagedSamples(run->uid(), stage_id); };
  bool cancelled = false;
  try {
    s = co_await (*backend)->LoadRun(journal, sink);
    if (s.ok()) s = co_await sink.Flush();
  } catch (const boost::system::system_error& e) {
    // The caller's cancellation: every co_await after it throws.
    if (e.code() != boost::asio::error::operation_aborted) throw;
    cancelled = true;
  }
  if (cancelled || !s.ok()) {
    // The clean-up runs whether or not (or when) the caller's cancellation
    // arrives.
    co_await boost::asio::this_coro::reset_cancellation_state();
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    if (cancelled) s = absl::CancelledError("the load was cancelled");
    co_await sink.Drain();
    (void)co_await common::AwaitOnPool(*store_pool_, discard);
    co_return s;
  }
  auto commit = [&] { return store_->CommitStagedSamples(run->uid(), stage_id); };
  s = co_await common::AwaitOnPool(*store_pool_, std::move(commit));
  if (!s.ok()) {
    (void)co_await common::AwaitOnPool(*store_pool_, discard);
    co_return s;
  }
  for (const v1::FieldLoadSummary& field : sink.summary().fields()) {
    metrics_->AddLabelsLoaded("added", field.added());
    metrics_->AddLabelsLoaded("edited", field.edited());
    metrics_->AddLabelsLoaded("deleted", field.deleted());
    metrics_->AddLabelsLoaded("unchanged", field.unchanged());
  }
  if (request.cleanup()) {
    v1::CleanupRunRequest cleanup;
    cleanup.set_name(request.name());
    auto cleaned = co_await CleanupRun(tenant, cleanup);
    if (!cleaned.ok()) co_return cleaned.status();
    sink.summary().set_cleaned_up(true);
  }
  v1::LoadAnnotationsResponse last;
  *last.mutable_summary() = std::move(sink.summary());
  co_return co_await emit(std::move(last));
}

boost::asio::awaitable<absl::StatusOr<v1::GetRunStatusResponse>> RunOperations::GetRunStatus(
    std::string tenant, v1::GetRunStatusRequest request) {
  auto run = co_await RunFor(tenant, request.name());
  if (!run.ok()) co_return run.status();
  auto backend = backends_->BackendFor(tenant);
  if (!backend.ok()) co_return backend.status();
  StoreUploadJournal journal(store_, *run, /*fence=*/nullptr, store_pool_);
  co_return co_await (*backend)->GetStatus(journal);
}

boost::asio::awaitable<absl::StatusOr<v1::CleanupRunResponse>> RunOperations::CleanupRun(
    std::string tenant, v1::CleanupRunRequest request) {
  auto run = co_await RunFor(tenant, request.name());
  if (!run.ok()) co_return run.status();
  v1::CleanupRunResponse response;
  if (run->state() == v1::RUN_STATE_CLEANED_UP) {
    *response.mutable_run() = *std::move(run);
    co_return response;  // a second call is harmless
  }
  if (run->state() == v1::RUN_STATE_UPLOADING || run->state() == v1::RUN_STATE_PENDING)
    co_return common::WithDetails(
        absl::FailedPreconditionError(absl::StrFormat(
            "Run '%s' is still uploading; clean it up once it is ANNOTATING or FAILED",
            request.name())),
        "name", "RUN_BUSY");
  auto backend = backends_->BackendFor(tenant);
  if (!backend.ok()) co_return backend.status();
  StoreUploadJournal journal(store_, *run, /*fence=*/nullptr, store_pool_);
  auto cleaned = co_await (*backend)->Cleanup(journal);
  if (!cleaned.ok()) co_return cleaned.status();
  response = *std::move(cleaned);
  auto update = [this, uid = run->uid()] {
    return store_->UpdateRun(uid, [](v1::AnnotationRun& r) {
      r.set_state(v1::RUN_STATE_CLEANED_UP);
      return absl::OkStatus();
    });
  };
  auto updated = co_await common::AwaitOnPool(*store_pool_, std::move(update));
  if (!updated.ok()) co_return updated.status();
  *response.mutable_run() = *std::move(updated);
  co_return response;
}

}  // namespace labelport::core
