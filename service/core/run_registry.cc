#include "service/core/run_registry.h"

#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/core/field_values.h"
#include "service/core/label_schema_builder.h"
#include "service/core/limits.h"
#include "service/core/page_tokens.h"
#include "service/core/resource_names.h"
#include "service/core/sample_validator.h"

namespace labelport::core {
namespace {

using common::InvalidArgument;
namespace v1 = labelport::v1;

std::string RandomHex(int digits) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  out.reserve(digits);
  while (static_cast<int>(out.size()) < digits) {
    absl::StrAppend(&out, absl::Hex(rng(), absl::kZeroPad16));
  }
  out.resize(digits);
  return out;
}

absl::Status ValidateHeader(const v1::CreateRunHeader& header) {
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
  if (!header.backend().empty() && header.backend() != "darwin")
    return InvalidArgument(
        "header.backend", "UNSUPPORTED_BACKEND",
        absl::StrFormat("Unsupported backend '%s'. The available backends are ['darwin']",
                        common::Excerpt(header.backend())));
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

store::RunKey KeyOf(const std::string& tenant, RunName name) {
  return store::RunKey{tenant, std::move(name.dataset), std::move(name.anno_key)};
}

}  // namespace

absl::StatusOr<std::string> NormalizeDatasetSlug(absl::string_view slug, absl::string_view field) {
  std::string out = absl::StrReplaceAll(absl::AsciiStrToLower(slug), {{" ", "-"}});
  if (out.empty() || out.size() > kMaxNameLength)
    return InvalidArgument(
        field, "DATASET_SLUG_INVALID",
        absl::StrFormat("dataset_slug '%s' must have 1 to 256 characters", common::Excerpt(slug)));
  for (char c : out) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.')
      return InvalidArgument(
          field, "DATASET_SLUG_INVALID",
          absl::StrFormat("dataset_slug '%s' may only contain letters, digits, spaces, '-', '_' "
                          "and '.'",
                          common::Excerpt(slug)));
  }
  return out;
}

RunRegistry::RunRegistry(store::RunStore* store, HexGenerator hex, std::function<void()> on_work)
    : store_(store),
      hex_(hex ? std::move(hex) : HexGenerator(RandomHex)),
      on_work_(std::move(on_work)) {}

absl::StatusOr<v1::CreateRunResponse> RunRegistry::CreateRun(const std::string& tenant,
                                                             const v1::CreateRunHeader& header,
                                                             std::vector<v1::Sample> samples) {
  // FiftyOne's order: collection, config, media type, schema, then the key.
  LP_ASSIGN_OR_RETURN(std::string dataset, ParseDatasetName(header.parent(), "header.parent"));
  if (samples.empty()) {
    const std::string collection =
        header.collection_name().empty() ? "Dataset" : header.collection_name();
    return InvalidArgument(
        "samples", "EMPTY_COLLECTION",
        absl::StrFormat("%s is empty; there is nothing to annotate", common::Excerpt(collection)));
  }
  LP_RETURN_IF_ERROR(ValidateHeader(header));
  if (samples.size() > kMaxSamplesPerRun)
    return InvalidArgument("samples", "TOO_MANY_SAMPLES",
                           absl::StrFormat("A run may hold at most %d samples; got %d",
                                           kMaxSamplesPerRun, samples.size()));
  v1::DarwinOptions darwin = header.darwin();
  if (darwin.dataset_slug().empty()) {
    darwin.set_dataset_slug(absl::StrCat("voxel51-", hex_(32)));
  } else {
    LP_ASSIGN_OR_RETURN(*darwin.mutable_dataset_slug(),
                        NormalizeDatasetSlug(darwin.dataset_slug(), "header.darwin.dataset_slug"));
  }
  LP_ASSIGN_OR_RETURN(v1::MediaType media_type, ValidateSampleMedia(samples, darwin));
  LP_ASSIGN_OR_RETURN(BuiltSchema built, BuildLabelSchema(header, media_type, samples));
  LP_RETURN_IF_ERROR(ValidateSampleLabels(samples, built.schema));
  if (!IsValidRunKey(header.anno_key()))
    return InvalidRunKeyError("header.anno_key", header.anno_key());

  store::NewRun run;
  run.key = store::RunKey{tenant, dataset, header.anno_key()};
  run.request_id = header.request_id();
  v1::AnnotationRun& record = run.record;
  record.set_backend("darwin");
  record.set_state(v1::RUN_STATE_PENDING);
  *record.mutable_label_schema() = std::move(built.schema);
  *record.mutable_darwin() = std::move(darwin);
  record.mutable_progress()->set_samples_total(static_cast<int64_t>(samples.size()));
  record.mutable_progress()->set_labels_total(CountLabels(samples));
  record.set_request_id(header.request_id());
  *record.mutable_client_metadata() = header.client_metadata();
  record.set_media_field(header.media_field().empty() ? "filepath" : header.media_field());
  run.samples = std::move(samples);

  LP_ASSIGN_OR_RETURN(store::CreateRunResult created, store_->CreateRun(run));
  if (created.created && on_work_) on_work_();
  v1::CreateRunResponse response;
  *response.mutable_run() = std::move(created.run);
  response.set_created(created.created);
  for (auto& w : built.warnings) response.add_warnings(std::move(w));
  return response;
}

absl::StatusOr<v1::GetRunResponse> RunRegistry::GetRun(const std::string& tenant,
                                                       const v1::GetRunRequest& request) {
  LP_ASSIGN_OR_RETURN(RunName name, ParseRunName(request.name(), "name"));
  v1::GetRunResponse response;
  LP_ASSIGN_OR_RETURN(*response.mutable_run(), store_->GetRun(KeyOf(tenant, std::move(name))));
  return response;
}

absl::StatusOr<v1::ListRunsResponse> RunRegistry::ListRuns(const std::string& tenant,
                                                           const v1::ListRunsRequest& request) {
  store::ListRunsQuery query;
  query.tenant = tenant;
  LP_ASSIGN_OR_RETURN(query.dataset, ParseDatasetName(request.parent(), "parent"));
  if (request.page_size() < 0)
    return InvalidArgument("page_size", "PAGE_SIZE_INVALID", "page_size must not be negative");
  query.page_size = request.page_size() == 0 ? kDefaultRunPageSize
                                             : std::min(request.page_size(), kMaxRunPageSize);
  if (!request.page_token().empty()) {
    LP_ASSIGN_OR_RETURN(query.after_anno_key, DecodeRunPageToken(request.page_token()));
  }
  query.backend = request.backend();
  query.state = request.state();
  query.dataset_slug = request.dataset_slug();
  LP_ASSIGN_OR_RETURN(store::ListRunsPage page, store_->ListRuns(query));
  v1::ListRunsResponse response;
  for (auto& run : page.runs) *response.add_runs() = std::move(run);
  if (page.next_after_anno_key)
    response.set_next_page_token(EncodeRunPageToken(*page.next_after_anno_key));
  return response;
}

absl::StatusOr<v1::RenameRunResponse> RunRegistry::RenameRun(const std::string& tenant,
                                                             const v1::RenameRunRequest& request) {
  LP_ASSIGN_OR_RETURN(RunName name, ParseRunName(request.name(), "name"));
  // FiftyOne does not validate the new key as an identifier; labelport does,
  // so every stored key can be used in a resource name.
  if (!IsValidRunKey(request.new_anno_key()))
    return InvalidRunKeyError("new_anno_key", request.new_anno_key());
  v1::RenameRunResponse response;
  LP_ASSIGN_OR_RETURN(*response.mutable_run(),
                      store_->RenameRun(KeyOf(tenant, std::move(name)), request.new_anno_key()));
  return response;
}

absl::StatusOr<v1::DeleteRunResponse> RunRegistry::DeleteRun(const std::string& tenant,
                                                             const v1::DeleteRunRequest& request) {
  LP_ASSIGN_OR_RETURN(RunName name, ParseRunName(request.name(), "name"));
  LP_RETURN_IF_ERROR(store_->DeleteRun(KeyOf(tenant, std::move(name))));
  return v1::DeleteRunResponse();
}

absl::StatusOr<v1::ListRunSamplesResponse> RunRegistry::ListRunSamples(
    const std::string& tenant, const v1::ListRunSamplesRequest& request) {
  LP_ASSIGN_OR_RETURN(RunName name, ParseRunName(request.name(), "name"));
  if (request.page_size() < 0)
    return InvalidArgument("page_size", "PAGE_SIZE_INVALID", "page_size must not be negative");
  const int page_size = request.page_size() == 0
                            ? kDefaultSamplePageSize
                            : std::min(request.page_size(), kMaxSamplePageSize);
  int64_t start = 0;
  if (!request.page_token().empty()) {
    LP_ASSIGN_OR_RETURN(start, DecodeSamplePageToken(request.page_token()));
  }
  LP_ASSIGN_OR_RETURN(store::SampleIdPage page,
                      store_->ListRunSamples(KeyOf(tenant, std::move(name)), start, page_size));
  v1::ListRunSamplesResponse response;
  for (auto& id : page.sample_ids) response.add_sample_ids(std::move(id));
  if (page.next_start_position)
    response.set_next_page_token(EncodeSamplePageToken(*page.next_start_position));
  return response;
}

absl::StatusOr<v1::AnnotationRun> RunRegistry::GetRunByUid(const std::string& uid) {
  return store_->GetRunByUid(uid);
}

absl::StatusOr<v1::ResumeRunResponse> RunRegistry::ResumeRun(const std::string& tenant,
                                                             const v1::ResumeRunRequest& request) {
  LP_ASSIGN_OR_RETURN(RunName name, ParseRunName(request.name(), "name"));
  LP_ASSIGN_OR_RETURN(v1::AnnotationRun run, store_->GetRun(KeyOf(tenant, std::move(name))));
  LP_ASSIGN_OR_RETURN(v1::AnnotationRun updated,
                      store_->UpdateRun(run.uid(), [&](v1::AnnotationRun& r) -> absl::Status {
                        const bool retry_failed_samples = r.state() == v1::RUN_STATE_ANNOTATING &&
                                                          r.progress().samples_failed() > 0;
                        if (r.state() != v1::RUN_STATE_FAILED && !retry_failed_samples)
                          return common::WithDetails(
                              absl::FailedPreconditionError(absl::StrFormat(
                                  "Run '%s' is %s; only a FAILED run, or an ANNOTATING run with "
                                  "failed samples, can be resumed",
                                  request.name(), v1::RunState_Name(r.state()))),
                              "name", "RUN_NOT_FAILED");
                        r.set_state(v1::RUN_STATE_PENDING);
                        r.clear_failure_reason();
                        return absl::OkStatus();
                      }));
  if (on_work_) on_work_();
  v1::ResumeRunResponse response;
  *response.mutable_run() = std::move(updated);
  return response;
}

}  // namespace labelport::core
