// Helpers shared by the RunStore implementations (SQLite, PostgreSQL): the
// store-owned fields of a run record, blob (de)serialisation with errors that
// name the operation, and the errors and argument checks the port specifies
// (run_store.h). Internal to service/store.
#ifndef LABELPORT_SERVICE_STORE_RUN_RECORDS_H_
#define LABELPORT_SERVICE_STORE_RUN_RECORDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "labelport/v1/annotation_run.pb.h"
#include "service/store/run_store.h"

namespace labelport::store::run_records {

// NOT_FOUND (field "name") for a run key, (field "uid") for a run uid, with
// reason RUN_NOT_FOUND.
absl::Status RunNotFound(absl::string_view anno_key);
absl::Status RunUidNotFound(absl::string_view run_id);

// ALREADY_EXISTS (reason RUN_ALREADY_EXISTS) when CreateRun meets a run with
// `anno_key` (field "header.anno_key"), or RenameRun's `new_anno_key` is taken
// (field "new_anno_key").
absl::Status RunKeyClash(absl::string_view anno_key);
absl::Status RenameKeyClash(absl::string_view new_anno_key);

// NOT_FOUND (field "spool_id", reason RUN_SPOOL_NOT_FOUND) for a run spool
// that is unknown, committed, discarded or expired.
absl::Status RunSpoolNotFound(absl::string_view spool_id);

// Adds `count` runs of the stored state `state` to `counts`; a state this
// build does not know is skipped (RunStateCounter).
void AddStateCount(int64_t state, int64_t count,
                   std::map<labelport::v1::RunState, int64_t>& counts);

// INVALID_ARGUMENT for an empty replica id, or (with a ttl) a ttl <= 0
// (ReplicaDirectory).
absl::Status CheckReplica(absl::string_view replica_id, absl::string_view operation,
                          std::optional<absl::Duration> ttl = std::nullopt);

// INVALID_ARGUMENT (field "samples", reason DUPLICATE_SAMPLE_ID) when a
// run's sample id repeats (CreateRun).
absl::Status DuplicateSampleId(absl::string_view operation, absl::string_view sample_id);

// INVALID_ARGUMENT (field "progress.position", reason INVALID_SAMPLE_POSITION)
// unless `position` is a sample of run `run_id`, which has `sample_count`
// (SaveSampleProgress).
absl::Status CheckProgressPosition(absl::string_view operation, absl::string_view run_id,
                                   int64_t position, int64_t sample_count);

// INVALID_ARGUMENT (field "samples.position", reason INVALID_SAMPLE_POSITION)
// when a staged sample's id `sample_id` is not that of the stored sample at
// `position` (CommitStagedSamples).
absl::Status StagedSampleMismatch(absl::string_view operation, absl::string_view run_id,
                                  absl::string_view sample_id, int64_t position);

// The run a transaction found before (INTERNAL when it is gone, which the
// transaction's locks rule out).
absl::StatusOr<labelport::v1::AnnotationRun> StillThere(
    std::optional<labelport::v1::AnnotationRun> run, absl::string_view run_id,
    absl::string_view operation);

// INVALID_ARGUMENT (field "links.annotation_id", reason EMPTY_ANNOTATION_ID)
// for a link of run `run_id` without an annotation id (SaveAnnotationLinks).
absl::Status CheckAnnotationId(const labelport::internal::v1::AnnotationLink& link,
                               absl::string_view run_id, absl::string_view operation);

// The first sample id (then label id) that repeats within one spool batch.
std::optional<SpoolConflict> RepeatInBatch(const std::vector<labelport::v1::Sample>& samples,
                                           const std::vector<std::string>& label_ids);

// `status` with its code and payloads, and `prefix` before its message.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix);

// INVALID_ARGUMENT (reason INVALID_PAGE_SIZE, naming `field`) below 1.
absl::Status CheckPageSize(int page_size, absl::string_view operation,
                           absl::string_view field = "page_size");

// INVALID_ARGUMENT (field "start_position", reason INVALID_START_POSITION)
// when it is negative.
absl::Status CheckStartPosition(int64_t start_position, absl::string_view operation);

// INVALID_ARGUMENT for AcquireLease: an empty `owner` (reason
// EMPTY_LEASE_OWNER) or a `ttl` that is not positive (reason INVALID_LEASE_TTL).
absl::Status CheckLeaseRequest(absl::string_view owner, absl::Duration ttl,
                               absl::string_view operation);

// INVALID_ARGUMENT (field "state.type_url", reason EMPTY_BACKEND_STATE_TYPE)
// for SaveBackendState's state without a type_url.
absl::Status CheckBackendState(const google::protobuf::Any& state, absl::string_view run_id,
                               absl::string_view operation);

// The store-owned fields of a run record live in columns, not in the stored
// blob, so that a rename touches one row and the blob never disagrees with
// the key. ClearOwnedFields strips them before a record is stored;
// FillOwnedFields sets them (and `name`) from the columns when it is read.
struct OwnedFields {
  std::string run_id;
  std::string dataset;
  std::string anno_key;
  int64_t create_time_ns = 0;
  int64_t update_time_ns = 0;
  int64_t revision = 0;
};
void ClearOwnedFields(labelport::v1::AnnotationRun& run);
void FillOwnedFields(const OwnedFields& owned, labelport::v1::AnnotationRun& run);

// A new run id (also a spool id): 32 random hex digits. Thread-safe.
std::string NewRunId();

// What CreateRun and CommitRunSpool return for a run they stored as
// `run_id` under `key` at `now_ns`: `record` (owned fields cleared) with the
// owned fields filled in, revision 1, created = true.
CreateRunResult CreatedRun(const std::string& run_id, const RunKey& key,
                           labelport::v1::AnnotationRun record, int64_t now_ns);

// Parses a stored protobuf blob; INTERNAL naming `operation` and `what` when
// it is corrupt.
template <typename Message>
absl::StatusOr<Message> ParseRecord(absl::string_view blob, absl::string_view operation,
                                    absl::string_view what) {
  Message message;
  if (!message.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::InternalError(absl::StrCat(operation, ": the stored ", what, " cannot be parsed"));
  }
  return message;
}

// Serialises `message` for storage; INVALID_ARGUMENT naming `operation` when
// it cannot be.
template <typename Message>
absl::StatusOr<std::string> SerializeRecord(const Message& message, absl::string_view operation) {
  std::string blob;
  if (!message.SerializeToString(&blob)) {
    return absl::InvalidArgumentError(
        absl::StrCat(operation, ": a ", Message::descriptor()->name(), " cannot be serialised"));
  }
  return blob;
}

}  // namespace labelport::store::run_records

#endif  // LABELPORT_SERVICE_STORE_RUN_RECORDS_H_
