#include "service/store/run_records.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "service/common/errors.h"

namespace labelport::store::run_records {
namespace {

void SetTimestamp(int64_t unix_nanos, google::protobuf::Timestamp* timestamp) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t seconds = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    seconds -= 1;
    nanos += kNanosPerSecond;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(nanos));
}

}  // namespace

absl::Status RunNotFound(absl::string_view anno_key) {
  return common::NotFound("name", "RUN_NOT_FOUND",
                          absl::StrCat("Dataset has no annotation run key '", anno_key, "'"));
}

absl::Status RunUidNotFound(absl::string_view run_id) {
  return common::NotFound("uid", "RUN_NOT_FOUND",
                          absl::StrCat("No annotation run has uid '", run_id, "'"));
}

absl::Status RunKeyClash(absl::string_view anno_key) {
  return common::AlreadyExists(
      "header.anno_key", "RUN_ALREADY_EXISTS",
      absl::StrCat("Annotation run with key '", anno_key, "' already exists"));
}

absl::Status RenameKeyClash(absl::string_view new_anno_key) {
  return common::AlreadyExists(
      "new_anno_key", "RUN_ALREADY_EXISTS",
      absl::StrCat("A annotation run with key '", new_anno_key, "' already exists"));
}

absl::Status RunSpoolNotFound(absl::string_view spool_id) {
  return common::NotFound(
      "spool_id", "RUN_SPOOL_NOT_FOUND",
      absl::StrCat("No pending run has spool id '", spool_id,
                   "' (committed, discarded, or expired after its stream stalled)"));
}

std::optional<SpoolConflict> RepeatInBatch(const std::vector<labelport::v1::Sample>& samples,
                                           const std::vector<std::string>& label_ids) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const auto& sample : samples) {
    if (!seen.insert(sample.id()).second)
      return SpoolConflict{SpoolConflict::Kind::kSampleId, sample.id()};
  }
  seen.clear();
  for (const auto& id : label_ids) {
    if (!seen.insert(id).second) return SpoolConflict{SpoolConflict::Kind::kLabelId, id};
  }
  return std::nullopt;
}

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status result(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&result](absl::string_view type_url, const absl::Cord& payload) {
    result.SetPayload(type_url, payload);
  });
  return result;
}

absl::Status CheckPageSize(int page_size, absl::string_view operation, absl::string_view field) {
  if (page_size < 1) {
    return common::InvalidArgument(
        field, "INVALID_PAGE_SIZE",
        absl::StrCat(operation, ": ", field, " must be at least 1, got ", page_size));
  }
  return absl::OkStatus();
}

absl::Status CheckStartPosition(int64_t start_position, absl::string_view operation) {
  if (start_position < 0) {
    return common::InvalidArgument(
        "start_position", "INVALID_START_POSITION",
        absl::StrCat(operation, ": start_position must not be negative, got ", start_position));
  }
  return absl::OkStatus();
}

absl::Status CheckBackendState(const google::protobuf::Any& state, absl::string_view run_id,
                               absl::string_view operation) {
  if (state.type_url().empty()) {
    return common::InvalidArgument("state.type_url", "EMPTY_BACKEND_STATE_TYPE",
                                   absl::StrCat(operation, ": the backend state of run ", run_id,
                                                " has no type_url (the name of its message)"));
  }
  return absl::OkStatus();
}

absl::Status CheckLeaseRequest(absl::string_view owner, absl::Duration ttl,
                               absl::string_view operation) {
  if (owner.empty()) {
    return common::InvalidArgument("owner", "EMPTY_LEASE_OWNER",
                                   absl::StrCat(operation, ": the owner is empty"));
  }
  if (ttl <= absl::ZeroDuration()) {
    return common::InvalidArgument(
        "ttl", "INVALID_LEASE_TTL",
        absl::StrCat(operation, ": the ttl must be positive, got ", absl::FormatDuration(ttl)));
  }
  return absl::OkStatus();
}

void ClearOwnedFields(labelport::v1::AnnotationRun& run) {
  run.clear_name();
  run.clear_dataset();
  run.clear_anno_key();
  run.clear_uid();
  run.clear_revision();
  run.clear_create_time();
  run.clear_update_time();
}

void FillOwnedFields(const OwnedFields& owned, labelport::v1::AnnotationRun& run) {
  run.set_name(absl::StrCat("datasets/", owned.dataset, "/runs/", owned.anno_key));
  run.set_dataset(owned.dataset);
  run.set_anno_key(owned.anno_key);
  run.set_uid(owned.run_id);
  run.set_revision(owned.revision);
  SetTimestamp(owned.create_time_ns, run.mutable_create_time());
  SetTimestamp(owned.update_time_ns, run.mutable_update_time());
}

void AddStateCount(int64_t state, int64_t count,
                   std::map<labelport::v1::RunState, int64_t>& counts) {
  if (!labelport::v1::RunState_IsValid(static_cast<int>(state))) return;
  counts[static_cast<labelport::v1::RunState>(state)] = count;
}

absl::Status CheckReplica(absl::string_view replica_id, absl::string_view operation,
                          std::optional<absl::Duration> ttl) {
  if (replica_id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(operation, ": the replica id is empty"));
  }
  if (ttl.has_value() && *ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(operation, ": ttl must be > 0"));
  }
  return absl::OkStatus();
}

std::string NewRunId() {
  // One generator per thread: no lock, and each is seeded from the OS.
  thread_local absl::BitGen bitgen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(bitgen),
                         absl::Uniform<uint64_t>(bitgen));
}

CreateRunResult CreatedRun(const std::string& run_id, const RunKey& key,
                           labelport::v1::AnnotationRun record, int64_t now_ns) {
  CreateRunResult result;
  result.run_id = run_id;
  result.created = true;
  result.run = std::move(record);
  FillOwnedFields({.run_id = run_id,
                   .dataset = key.dataset,
                   .anno_key = key.anno_key,
                   .create_time_ns = now_ns,
                   .update_time_ns = now_ns,
                   .revision = 1},
                  result.run);
  return result;
}

absl::Status CheckAnnotationId(const labelport::internal::v1::AnnotationLink& link,
                               absl::string_view run_id, absl::string_view operation) {
  if (!link.annotation_id().empty()) return absl::OkStatus();
  return common::InvalidArgument("links.annotation_id", "EMPTY_ANNOTATION_ID",
                                 absl::StrCat(operation, ": the link of label '", link.label_id(),
                                              "' of run ", run_id, " has no annotation id"));
}

absl::Status DuplicateSampleId(absl::string_view operation, absl::string_view sample_id) {
  return common::InvalidArgument(
      "samples", "DUPLICATE_SAMPLE_ID",
      absl::StrCat(operation, ": sample id '", sample_id, "' appears more than once in the run"));
}

absl::Status CheckProgressPosition(absl::string_view operation, absl::string_view run_id,
                                   int64_t position, int64_t sample_count) {
  if (position >= 0 && position < sample_count) return absl::OkStatus();
  return common::InvalidArgument(
      "progress.position", "INVALID_SAMPLE_POSITION",
      absl::StrCat(operation, ": run ", run_id, " has no sample at position ", position,
                   " (it has ", sample_count, " samples)"));
}

absl::Status StagedSampleMismatch(absl::string_view operation, absl::string_view run_id,
                                  absl::string_view sample_id, int64_t position) {
  return common::InvalidArgument("samples.position", "INVALID_SAMPLE_POSITION",
                                 absl::StrCat(operation, ": run ", run_id, " has no sample '",
                                              sample_id, "' at position ", position));
}

absl::StatusOr<labelport::v1::AnnotationRun> StillThere(
    std::optional<labelport::v1::AnnotationRun> run, absl::string_view run_id,
    absl::string_view operation) {
  if (!run.has_value()) {
    return absl::InternalError(
        absl::StrCat(operation, ": run ", run_id, " vanished inside a transaction"));
  }
  return *std::move(run);
}

}  // namespace labelport::store::run_records
