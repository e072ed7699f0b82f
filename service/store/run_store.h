// RunStore: the durable registry of annotation runs and their samples.
//
// One port, several implementations (SQLite now, PostgreSQL later) that pass
// the same conformance suite (tests/unit/store/run_store_conformance.h).
//
// Data model: a run is identified internally by `run_id` (stable across
// renames) and externally by (tenant, dataset, anno_key), unique among live
// runs. The run record is a labelport.v1.AnnotationRun; the store owns the
// fields `name`, `dataset`, `anno_key`, `create_time` and `update_time` and
// fills them in. Samples are kept in upload order with their existing labels.
//
// Thread-safety: every method may be called concurrently from many threads.
// Methods block on I/O; callers run them off gRPC threads.
// Errors: NOT_FOUND for an unknown run, ALREADY_EXISTS for a key clash,
// INTERNAL / UNAVAILABLE for storage failures (message names the operation).
#ifndef LABELPORT_SERVICE_STORE_RUN_STORE_H_
#define LABELPORT_SERVICE_STORE_RUN_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

  virtual absl::StatusOr<labelport::v1::AnnotationRun> GetRun(
      const RunKey& key) = 0;

  virtual absl::StatusOr<ListRunsPage> ListRuns(const ListRunsQuery& query) = 0;

  // Moves the run to `new_anno_key` (same run_id, samples and request id).
  // ALREADY_EXISTS ("A annotation run with key '<new>' already exists") when
  // the target key is taken; NOT_FOUND when the run is unknown.
  virtual absl::StatusOr<labelport::v1::AnnotationRun> RenameRun(
      const RunKey& key, const std::string& new_anno_key) = 0;

  // Removes the run, its samples and its request-id record.
  virtual absl::Status DeleteRun(const RunKey& key) = 0;

  // Sample ids of a run in upload order, from the 0-based `start_position`,
  // at most `page_size` (>= 1) of them. NOT_FOUND when the run is unknown.
  virtual absl::StatusOr<SampleIdPage> ListRunSamples(
      const RunKey& key, int64_t start_position, int page_size) = 0;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_STORE_H_
