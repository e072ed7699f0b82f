// RunStore: the durable registry of annotation runs and their samples.
//
// One port, several implementations (SqliteRunStore, PostgresRunStore) that
// pass the same conformance suite (tests/unit/store/run_store_conformance.h,
// run against both by tests/unit/store/run_store_conformance_test.cc).
//
// Data model: a run is identified internally by `run_id` (stable across
// renames) and externally by (tenant, dataset, anno_key), unique among live
// runs. The run record is a labelport.v1.AnnotationRun; the store owns the
// fields `name`, `dataset`, `anno_key`, `uid` (= run_id), `revision` (1 at
// creation, +1 per UpdateRun or RenameRun), `create_time` and `update_time`
// and fills them in on every record it returns. Samples are kept in upload
// order with their existing labels. The upload job of a run (per-sample
// progress, annotation links, the backend's state, a worker lease) is kept
// beside it.
//
// Thread-safety: every method may be called concurrently from many threads.
// Methods block on I/O; callers run them off gRPC threads.
// Errors: NOT_FOUND for an unknown run, ALREADY_EXISTS for a key clash,
// INTERNAL / UNAVAILABLE for storage failures (message names the operation).
#ifndef LABELPORT_SERVICE_STORE_RUN_STORE_H_
#define LABELPORT_SERVICE_STORE_RUN_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "labelport/internal/v1/job_state.pb.h"
#include "labelport/v1/annotation_run.pb.h"
#include "labelport/v1/sample.pb.h"

namespace labelport::store {

// Identifies a run by its public key within a tenant.
struct RunKey {
  std::string tenant;
  std::string dataset;
  std::string anno_key;
};

// A run to create.
struct NewRun {
  RunKey key;
  // Idempotency key; empty means none. Unique per tenant.
  std::string request_id;
  // The record; `state`, `label_schema`, `darwin`, `progress`, ... as given.
  labelport::v1::AnnotationRun record;
  // The samples, in upload order. Sample ids are unique (validated before).
  std::vector<labelport::v1::Sample> samples;
};

// Outcome of CreateRun.
struct CreateRunResult {
  labelport::v1::AnnotationRun run;
  std::string run_id;
  // False when `request_id` matched an existing run, which is returned as is.
  bool created = false;
};

// A page request for ListRuns. Runs are sorted by anno_key (byte order).
struct ListRunsQuery {
  std::string tenant;
  std::string dataset;
  // Only runs whose anno_key is strictly greater (empty: from the start).
  std::string after_anno_key;
  // At most this many runs (>= 1).
  int page_size = 50;
  // Optional filters (empty / UNSPECIFIED: any).
  std::string backend;
  labelport::v1::RunState state = labelport::v1::RUN_STATE_UNSPECIFIED;
  std::string dataset_slug;
};

struct ListRunsPage {
  std::vector<labelport::v1::AnnotationRun> runs;
  // Set when more runs may follow: pass it as `after_anno_key`.
  std::optional<std::string> next_after_anno_key;
};

// A page of sample ids, in upload order.
struct SampleIdPage {
  std::vector<std::string> sample_ids;
  // Set when more follow: the position to start the next page at.
  std::optional<int64_t> next_start_position;
};

// A run spool begun by BeginRunSpool.
struct RunSpool {
  // Set when the request id is already recorded: the existing run (nothing
  // was begun, `spool_id` is empty).
  std::optional<CreateRunResult> replay;
  // Otherwise the pending run's id (it becomes the run's uid on commit).
  std::string spool_id;
};

// Why AppendToRunSpool stored nothing: `id`, a sample id or a label id of the
// batch, is already in the spool or repeats within the batch.
struct SpoolConflict {
  enum class Kind { kSampleId, kLabelId };
  Kind kind = Kind::kSampleId;
  std::string id;
};

// A run whose upload job may be claimed (see ListClaimableRuns).
struct ClaimableRun {
  std::string run_id;
  RunKey key;
};

class RunStore {
 public:
  virtual ~RunStore() = default;

  // Atomically stores the run and all its samples. If `request_id` is not
  // empty and already recorded for the tenant (and its run still exists),
  // stores nothing and returns that run with created=false. Otherwise, if a
  // live run has the same (tenant, dataset, anno_key), returns ALREADY_EXISTS
  // with the message "Annotation run with key '<key>' already exists".
  // Exactly one of several concurrent creates with one key succeeds.
  virtual absl::StatusOr<CreateRunResult> CreateRun(const NewRun& run) = 0;

  virtual absl::StatusOr<labelport::v1::AnnotationRun> GetRun(const RunKey& key) = 0;

  // --- Spooling a run while CreateRun streams it (DESIGN.md §8) ---
  //
  // A pending run receives its samples batch by batch and becomes a live run
  // in one step (CommitRunSpool), or disappears with every row spooled for
  // it (DiscardRunSpool; DiscardRunSpoolsOf its owner after a restart;
  // DiscardExpiredRunSpools once it expired). Until committed it is
  // invisible: it has no key (GetRun, ListRuns, RenameRun, DeleteRun,
  // ListRunSamples do not find it), is never claimable, is not counted by
  // state, and its uid is known only to its spooler, which alone may pass it
  // to the spool methods. Sample ids and label ids are unique within a spool
  // (the store's constraints check them across batches).

  // Begins a pending run that will take `key`, owned by `owner` (the
  // replica's worker id), expiring `ttl` after its last append. When
  // `request_id` is not empty and already recorded for the tenant, begins
  // nothing and returns that run as `replay`. ALREADY_EXISTS as CreateRun
  // when a live run has the key (checked again on commit).
  virtual absl::StatusOr<RunSpool> BeginRunSpool(const RunKey& key, const std::string& request_id,
                                                 const std::string& owner, absl::Duration ttl) = 0;

  // Appends `samples` at positions first_position, first_position + 1, ...
  // and records `label_ids` (the labels of those samples), and pushes the
  // spool's expiry to now + `ttl`; all or nothing. When a sample id or label
  // id of the batch is already in the spool or repeats in the batch, stores
  // nothing and returns the first such id (sample ids checked first, in
  // batch order). NOT_FOUND (reason RUN_SPOOL_NOT_FOUND) for a spool that
  // is unknown, committed, discarded or expired and removed.
  virtual absl::StatusOr<std::optional<SpoolConflict>> AppendToRunSpool(
      const std::string& spool_id, int64_t first_position,
      const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
      absl::Duration ttl) = 0;

  // Makes the pending run live as CreateRun would store `run` with the
  // spooled samples (`run.samples` is ignored): the run's uid is the spool
  // id. If `run.request_id` is already recorded (a concurrent call with the
  // same request id committed first), discards the spool and returns that
  // run with created=false. ALREADY_EXISTS (and the spool discarded) when a
  // live run has the key. NOT_FOUND as AppendToRunSpool.
  virtual absl::StatusOr<CreateRunResult> CommitRunSpool(const std::string& spool_id,
                                                         const NewRun& run) = 0;

  // Removes a pending run and everything spooled for it; nothing when the
  // spool is unknown (already discarded or committed).
  virtual absl::Status DiscardRunSpool(const std::string& spool_id) = 0;

  // Removes every pending run of `owner` (at start-up: its previous
  // process's streams are gone) and returns how many.
  virtual absl::StatusOr<int64_t> DiscardRunSpoolsOf(const std::string& owner) = 0;

  // Removes every pending run whose spool expired (a stalled stream, a
  // replica that never came back) and returns how many.
  virtual absl::StatusOr<int64_t> DiscardExpiredRunSpools() = 0;

  virtual absl::StatusOr<ListRunsPage> ListRuns(const ListRunsQuery& query) = 0;

  // Moves the run to `new_anno_key` (same run_id, samples and request id),
  // incrementing its `revision`.
  // ALREADY_EXISTS ("A annotation run with key '<new>' already exists") when
  // the target key is taken; NOT_FOUND when the run is unknown.
  virtual absl::StatusOr<labelport::v1::AnnotationRun> RenameRun(
      const RunKey& key, const std::string& new_anno_key) = 0;

  // Removes the run, its samples and its request-id record.
  virtual absl::Status DeleteRun(const RunKey& key) = 0;

  // Sample ids of a run in upload order, from the 0-based `start_position`,
  // at most `page_size` (>= 1) of them. NOT_FOUND when the run is unknown.
  virtual absl::StatusOr<SampleIdPage> ListRunSamples(const RunKey& key, int64_t start_position,
                                                      int page_size) = 0;

  // --- The upload job of a run (DESIGN.md §5) ---
  //
  // These methods address a run by its uid (CreateRunResult::run_id, also
  // AnnotationRun::uid), which survives renames. NOT_FOUND (field "uid",
  // reason "RUN_NOT_FOUND") when no run has the uid, including after
  // DeleteRun, which removes everything below with the run.

  virtual absl::StatusOr<labelport::v1::AnnotationRun> GetRunByUid(const std::string& run_id) = 0;

  // Changes a run record atomically: reads it, calls `mutate` on it and
  // stores the result, as one write transaction (concurrent updates of one
  // run are serialised, none is lost). `mutate` may run while a store-wide
  // lock is held: it must be quick and must not call the store. If it returns
  // an error, nothing is stored and that error is returned.
  // The store-owned fields (`name`, `dataset`, `anno_key`, `uid`,
  // `create_time`) keep their values whatever `mutate` does; `revision`
  // becomes the stored revision + 1 and `update_time` the time of the update.
  // ListRuns' `state` and `dataset_slug` filters follow the new record.
  // Returns the stored record.
  using RunMutator = std::function<absl::Status(labelport::v1::AnnotationRun& run)>;
  virtual absl::StatusOr<labelport::v1::AnnotationRun> UpdateRun(const std::string& run_id,
                                                                 const RunMutator& mutate) = 0;

  // Staging: new versions of samples written piece by piece under a
  // `stage_id` and applied all at once (a load's merged labels: memory stays
  // bounded, and a failed load changes nothing). Stages of a deleted run go
  // with it.
  //
  // StageSamples upserts (position → sample) into the stage; the sample ids
  // are checked on commit. CommitStagedSamples replaces every staged position
  // in one transaction and drops the stage (INVALID_ARGUMENT, nothing
  // written, when a staged sample's id differs from the stored one);
  // DiscardStagedSamples drops it.
  virtual absl::Status StageSamples(
      const std::string& run_id, const std::string& stage_id,
      const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) = 0;
  virtual absl::Status CommitStagedSamples(const std::string& run_id,
                                           const std::string& stage_id) = 0;
  virtual absl::Status DiscardStagedSamples(const std::string& run_id,
                                            const std::string& stage_id) = 0;

  // The samples of a run in upload order, from the 0-based `start_position`,
  // at most `max_count` (>= 1) of them; empty past the end. The sample at
  // index i of the result is at position start_position + i.
  // INVALID_ARGUMENT for a negative start or a max_count below 1.
  virtual absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamples(const std::string& run_id,
                                                                         int64_t start_position,
                                                                         int max_count) = 0;

  // Records the progress of samples, replacing any earlier record at the
  // same `position`, atomically for the whole batch. INVALID_ARGUMENT (field
  // "progress.position") when a position is not a sample of the run.
  // Progress, links and backend state are job bookkeeping: saving them does
  // not change the run's `revision`.
  virtual absl::Status SaveSampleProgress(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::SampleProgress>& progress) = 0;
  // The progress records at positions [start_position, start_position +
  // max_count), by increasing position (samples never saved have none): at
  // most `max_count` records (a bounded page, so that a job can walk a run
  // of any size in constant memory). INVALID_ARGUMENT for a negative start
  // or a max_count below 1.
  virtual absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>>
  LoadSampleProgressRange(const std::string& run_id, int64_t start_position, int max_count) = 0;

  // Records annotation links, replacing any earlier link with the same
  // `annotation_id`, atomically for the whole batch. INVALID_ARGUMENT (field
  // "links.annotation_id") for an empty annotation id.
  virtual absl::Status SaveAnnotationLinks(
      const std::string& run_id,
      const std::vector<labelport::internal::v1::AnnotationLink>& links) = 0;
  // The links of one item of the run (what a load needs, one item at a time).
  virtual absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>
  LoadAnnotationLinksForItem(const std::string& run_id, const std::string& item_id) = 0;
  // Every link of the run, by annotation id (byte order).
  virtual absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadAnnotationLinks(
      const std::string& run_id) = 0;

  // Replaces the run's backend state: opaque bytes (`state.value`) kept
  // with the type_url that names their message, both returned as saved.
  // INVALID_ARGUMENT (field "state.type_url") for an empty type_url.
  virtual absl::Status SaveBackendState(const std::string& run_id,
                                        const google::protobuf::Any& state) = 0;
  // The last state saved; an empty Any (no type_url) when none was. A state
  // saved before the store knew type_urls (schema versions that kept only
  // the V7 state) has the type_url of labelport.internal.v1.DarwinRunState.
  virtual absl::StatusOr<google::protobuf::Any> LoadBackendState(const std::string& run_id) = 0;

  // Leases: a worker holds a run's job while its lease is unexpired. Leases
  // are not part of the record and do not change `revision`.
  //
  // Takes the lease for `owner` (non-empty) until now + `ttl` (> 0) when it
  // is free, expired or already held by `owner` (which extends it). Atomic:
  // of concurrent callers, across processes, at most one gets a free lease.
  // Returns true when `owner` now holds the lease, false when another owner
  // holds an unexpired one. INVALID_ARGUMENT for an empty owner or ttl <= 0.
  virtual absl::StatusOr<bool> AcquireLease(const std::string& run_id, const std::string& owner,
                                            absl::Duration ttl) = 0;
  // Frees the lease if `owner` holds it (expired or not); otherwise does
  // nothing (a worker whose lease was taken over has nothing to release).
  virtual absl::Status ReleaseLease(const std::string& run_id, const std::string& owner) = 0;

  // Runs whose job a worker may claim: state PENDING or UPLOADING and lease
  // free or expired, of every tenant, round-robin across tenants: each
  // tenant's oldest run (create time, then uid) before any tenant's second,
  // and so on, oldest first within a round; at most `max_count` (>= 1). So a
  // tenant with a long backlog never hides another tenant's run. A listed run may be claimed by
  // someone else before the caller's AcquireLease, which then returns false. Runs leased by `owner`
  // itself are included (a restarted worker with the same owner takes its runs back at once); pass
  // "" for none.
  virtual absl::StatusOr<std::vector<ClaimableRun>> ListClaimableRuns(int max_count,
                                                                      const std::string& owner) = 0;

  // True when GetRun, GetRunByUid and ListRuns only read local files and
  // never wait for a write transaction or the network (SQLite in WAL mode
  // with its read connections), so that a caller may run them on a thread
  // that must not block (a gRPC thread). False by default.
  virtual bool ReadsAreLocal() const { return false; }
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_STORE_H_
