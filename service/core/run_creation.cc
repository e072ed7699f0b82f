#include "service/core/run_creation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/status_macros.h"
#include "service/core/field_values.h"
#include "service/core/label_types.h"
#include "service/core/limits.h"
#include "service/core/resource_names.h"
#include "service/core/run_registry.h"
#include "service/core/sample_validator.h"

namespace labelport::core {
namespace {

using common::InvalidArgument;
namespace v1 = labelport::v1;

absl::Status ValidateHeader(const v1::CreateRunHeader& header,
                            const backend::BackendCapabilities& backend) {
  auto too_long = [](absl::string_view field, absl::string_view reason, absl::string_view value,
                     size_t limit) {
    return InvalidArgument(
        field, reason,
        absl::StrFormat("%s '%s' is longer than %d bytes", field, common::Excerpt(value), limit));
  };
  if (header.request_id().size() > kMaxIdLength)
    return InvalidArgument("header.request_id", "REQUEST_ID_INVALID",
                           absl::StrFormat("request_id is longer than %d characters (%d bytes)",
                                           kMaxIdLength, header.request_id().size()));
  if (!header.backend().empty() && header.backend() != backend.name)
    return InvalidArgument(
        "header.backend", "UNSUPPORTED_BACKEND",
        absl::StrFormat("Unsupported backend '%s'. The available backends are %s",
                        common::Excerpt(header.backend()), PyList({backend.name})));
  if (header.collection_name().size() > kMaxNameLength)
    return too_long("header.collection_name", "COLLECTION_NAME_INVALID", header.collection_name(),
                    kMaxNameLength);
  if (header.media_field().size() > kMaxNameLength)
    return too_long("header.media_field", "MEDIA_FIELD_INVALID", header.media_field(),
                    kMaxNameLength);
  if (header.client_metadata_size() > static_cast<int>(kMaxClientMetadataEntries))
    return InvalidArgument(
        "header.client_metadata", "CLIENT_METADATA_TOO_LARGE",
        absl::StrFormat("client_metadata has %d entries; at most %d are allowed",
                        header.client_metadata_size(), kMaxClientMetadataEntries));
  for (const auto& [k, v] : header.client_metadata()) {
    if (k.size() > kMaxNameLength || v.size() > kMaxClientMetadataValue)
      return InvalidArgument(
          "header.client_metadata", "CLIENT_METADATA_TOO_LARGE",
          absl::StrFormat("client_metadata entry '%s' is too long (keys up to %d, values up to "
                          "%d bytes; got %d and %d)",
                          common::Excerpt(k), kMaxNameLength, kMaxClientMetadataValue, k.size(),
                          v.size()));
  }
  if (header.darwin().external_storage().size() > kMaxNameLength)
    return InvalidArgument(
        "header.darwin.external_storage", "EXTERNAL_STORAGE_INVALID",
        absl::StrFormat("external_storage is longer than %d characters (%d bytes)", kMaxNameLength,
                        header.darwin().external_storage().size()));
  return absl::OkStatus();
}

int64_t CountLabels(const std::vector<v1::Sample>& samples) {
  int64_t n = 0;
  for (const auto& s : samples) {
    for (const auto& f : s.fields()) {
      n += static_cast<int64_t>(LabelsOf(f.value()).size());
      for (const auto& fr : f.frames()) n += static_cast<int64_t>(LabelsOf(fr.value()).size());
    }
  }
  return n;
}

// The store no longer holds the creation's spool: it expired after
// `spool_ttl` without a batch, and the client must send the run again.
absl::Status SpoolExpired(absl::Duration spool_ttl) {
  return common::WithDetails(
      absl::AbortedError(absl::StrFormat(
          "CreateRun sent no samples for longer than %s and its spooled samples were "
          "discarded; send the run again",
          absl::FormatDuration(spool_ttl))),
      "samples", "SPOOL_EXPIRED");
}

}  // namespace

RunCreation::RunCreation(store::RunStore* store, std::string tenant, v1::CreateRunHeader header,
                         Options options)
    : store_(store),
      tenant_(std::move(tenant)),
      header_(std::move(header)),
      options_(std::move(options)) {}

RunCreation::~RunCreation() { Abort(); }

const std::vector<std::string>* RunCreation::MediaRoots() const {
  return options_.media_roots.has_value() ? &*options_.media_roots : nullptr;
}

absl::Status RunCreation::AddBatch(std::vector<v1::Sample> batch) {
  if (state_ != State::kOpen)
    return absl::FailedPreconditionError("AddBatch: the run creation has ended");
  absl::Status status = Add(batch);
  if (!status.ok()) {
    Abort();
    state_ = State::kFailed;
  }
  return status;
}

absl::Status RunCreation::Start(std::vector<v1::Sample>& batch) {
  // FiftyOne's order: collection, config, media type, schema, then the key.
  LP_ASSIGN_OR_RETURN(dataset_, ParseDatasetName(header_.parent(), "header.parent"));
  LP_RETURN_IF_ERROR(ValidateHeader(header_, options_.backend));
  darwin_ = header_.darwin();
  if (darwin_.dataset_slug().empty()) {
    darwin_.set_dataset_slug(absl::StrCat("voxel51-", options_.hex(32)));
  } else {
    LP_ASSIGN_OR_RETURN(*darwin_.mutable_dataset_slug(),
                        NormalizeDatasetSlug(darwin_.dataset_slug(), "header.darwin.dataset_slug"));
  }
  LP_RETURN_IF_ERROR(ValidateSampleMediaBatch(batch, 0, darwin_, media_type_, MediaRoots()));
  LP_ASSIGN_OR_RETURN(LabelSchemaBuilder schema,
                      LabelSchemaBuilder::Create(header_, media_type_, options_.backend));
  schema_ = std::move(schema);
  LP_RETURN_IF_ERROR(schema_->Observe(batch));
  LP_RETURN_IF_ERROR(ValidateSampleLabelsBatch(batch, 0, schema_->fields()));
  if (!IsValidRunKey(header_.anno_key()))
    return InvalidRunKeyError("header.anno_key", header_.anno_key());
  LP_ASSIGN_OR_RETURN(
      store::RunSpool spool,
      store_->BeginRunSpool({tenant_, dataset_, header_.anno_key()}, header_.request_id(),
                            options_.spool_owner, options_.spool_ttl));
  started_ = true;
  if (spool.replay.has_value()) {
    replay_ = std::move(spool.replay);
  } else {
    spool_id_ = std::move(spool.spool_id);
    // A new run (not a replayed request id) must fit the tenant's quota; the
    // caller's Abort discards the spool when it does not.
    if (options_.quota != nullptr) LP_RETURN_IF_ERROR(options_.quota->CheckRoomForRun(tenant_));
  }
  return absl::OkStatus();
}

absl::Status RunCreation::Add(std::vector<v1::Sample>& batch) {
  if (batch.empty()) return absl::OkStatus();
  const int64_t first = samples_;
  if (static_cast<size_t>(first) + batch.size() > kMaxSamplesPerRun)
    return InvalidArgument(
        "samples", "TOO_MANY_SAMPLES",
        absl::StrFormat("A run may hold at most %d samples; got %d", kMaxSamplesPerRun,
                        static_cast<size_t>(first) + batch.size()));
  if (!started_) {
    LP_RETURN_IF_ERROR(Start(batch));
  } else {
    LP_RETURN_IF_ERROR(ValidateSampleMediaBatch(batch, first, darwin_, media_type_, MediaRoots()));
    LP_RETURN_IF_ERROR(schema_->Observe(batch));
    LP_RETURN_IF_ERROR(ValidateSampleLabelsBatch(batch, first, schema_->fields()));
  }
  if (!replay_.has_value()) {
    std::vector<std::string> label_ids;
    for (const auto& sample : batch) {
      for (const auto& field : sample.fields()) {
        for (const auto& label : LabelsOf(field.value())) label_ids.emplace_back(label.id);
        for (const auto& frame : field.frames())
          for (const auto& label : LabelsOf(frame.value())) label_ids.emplace_back(label.id);
      }
    }
    absl::StatusOr<std::optional<store::SpoolConflict>> conflict =
        store_->AppendToRunSpool(spool_id_, first, batch, label_ids, options_.spool_ttl);
    if (conflict.status().code() == absl::StatusCode::kNotFound)
      return SpoolExpired(options_.spool_ttl);
    if (!conflict.ok()) return conflict.status();
    if (conflict->has_value()) {
      const store::SpoolConflict& c = **conflict;
      return c.kind == store::SpoolConflict::Kind::kSampleId
                 ? DuplicateSampleIdError(batch, first, c.id)
                 : DuplicateLabelIdError(batch, first, c.id);
    }
  }
  samples_ += static_cast<int64_t>(batch.size());
  labels_ += CountLabels(batch);
  return absl::OkStatus();
}

absl::StatusOr<v1::CreateRunResponse> RunCreation::Finish() {
  if (state_ != State::kOpen)
    return absl::FailedPreconditionError("Finish: the run creation has ended");
  absl::StatusOr<v1::CreateRunResponse> response = Commit();
  if (response.ok()) {
    state_ = State::kFinished;
  } else {
    Abort();
    state_ = State::kFailed;
  }
  return response;
}

absl::StatusOr<v1::CreateRunResponse> RunCreation::Commit() {
  if (!started_) {
    LP_RETURN_IF_ERROR(ParseDatasetName(header_.parent(), "header.parent").status());
    const std::string collection =
        header_.collection_name().empty() ? "Dataset" : header_.collection_name();
    return InvalidArgument(
        "samples", "EMPTY_COLLECTION",
        absl::StrFormat("%s is empty; there is nothing to annotate", common::Excerpt(collection)));
  }
  LP_ASSIGN_OR_RETURN(BuiltSchema built, schema_->Finish());
  v1::CreateRunResponse response;
  for (auto& w : built.warnings) response.add_warnings(std::move(w));
  if (replay_.has_value()) {
    // The recorded run as it is now.
    absl::StatusOr<v1::AnnotationRun> run = store_->GetRunByUid(replay_->run_id);
    if (absl::IsNotFound(run.status()))
      return common::WithDetails(
          absl::AbortedError(absl::StrFormat(
              "The run of request_id '%s' was deleted while this call streamed; send it again",
              header_.request_id())),
          "header.request_id", "REPLAYED_RUN_DELETED");
    if (!run.ok()) return run.status();
    *response.mutable_run() = *std::move(run);
    response.set_created(false);
    return response;
  }

  store::NewRun run;
  run.key = store::RunKey{tenant_, dataset_, header_.anno_key()};
  run.request_id = header_.request_id();
  v1::AnnotationRun& record = run.record;
  record.set_backend(options_.backend.name);
  record.set_state(v1::RUN_STATE_PENDING);
  *record.mutable_label_schema() = std::move(built.schema);
  *record.mutable_darwin() = darwin_;
  record.mutable_progress()->set_samples_total(samples_);
  record.mutable_progress()->set_labels_total(labels_);
  record.set_request_id(header_.request_id());
  *record.mutable_client_metadata() = header_.client_metadata();
  record.set_media_field(header_.media_field().empty() ? "filepath" : header_.media_field());

  absl::StatusOr<store::CreateRunResult> created = store_->CommitRunSpool(spool_id_, run);
  // Committed, or discarded by the store (a replay or a taken key).
  if (created.ok() || absl::IsAlreadyExists(created.status())) spool_id_.clear();
  if (absl::IsNotFound(created.status())) return SpoolExpired(options_.spool_ttl);
  LP_RETURN_IF_ERROR(created.status());
  if (created->created && options_.on_work) options_.on_work();
  *response.mutable_run() = std::move(created->run);
  response.set_created(created->created);
  return response;
}

void RunCreation::Abort() {
  if (spool_id_.empty()) return;
  absl::Status discarded = store_->DiscardRunSpool(spool_id_);
  if (!discarded.ok())
    common::LogWarning(
        absl::StrCat("could not discard the spool of a failed CreateRun (the "
                     "expiry sweep removes it): ",
                     discarded.message()));
  spool_id_.clear();
}

}  // namespace labelport::core
