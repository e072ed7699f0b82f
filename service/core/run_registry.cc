#include "service/core/run_registry.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/common/status_macros.h"
#include "service/core/limits.h"
#include "service/core/page_tokens.h"
#include "service/core/resource_names.h"

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

RunRegistry::RunRegistry(store::RunStore* store, const backend::BackendProvider* backends,
                         HexGenerator hex, std::function<void()> on_work, RunSpoolOptions spool,
                         MediaRootsLookup media_roots, const RunQuota* quota)
    : store_(store),
      backends_(backends),
      hex_(hex ? std::move(hex) : HexGenerator(RandomHex)),
      on_work_(std::move(on_work)),
      spool_(std::move(spool)),
      media_roots_(std::move(media_roots)),
      quota_(quota) {}

std::unique_ptr<RunCreation> RunRegistry::BeginCreateRun(const std::string& tenant,
                                                         v1::CreateRunHeader header) {
  RunCreation::Options options;
  options.hex = hex_;
  options.on_work = on_work_;
  options.spool_owner = spool_.owner;
  options.spool_ttl = spool_.ttl;
  if (media_roots_) options.media_roots = media_roots_(tenant);
  options.quota = quota_;
  options.backend = backends_->Capabilities();
  return std::make_unique<RunCreation>(store_, tenant, std::move(header), std::move(options));
}

absl::StatusOr<v1::CreateRunResponse> RunRegistry::CreateRun(const std::string& tenant,
                                                             const v1::CreateRunHeader& header,
                                                             std::vector<v1::Sample> samples) {
  std::unique_ptr<RunCreation> creation = BeginCreateRun(tenant, header);
  for (size_t start = 0; start < samples.size(); start += kMaxSamplesPerBatch) {
    const size_t end = std::min(samples.size(), start + kMaxSamplesPerBatch);
    std::vector<v1::Sample> batch(
        std::make_move_iterator(samples.begin() + static_cast<std::ptrdiff_t>(start)),
        std::make_move_iterator(samples.begin() + static_cast<std::ptrdiff_t>(end)));
    LP_RETURN_IF_ERROR(creation->AddBatch(std::move(batch)));
  }
  return creation->Finish();
}

void RunRegistry::DiscardStaleSpools(bool at_start) {
  if (at_start) {
    absl::StatusOr<int64_t> mine = store_->DiscardRunSpoolsOf(spool_.owner);
    if (!mine.ok()) {
      common::LogWarning(absl::StrCat("could not discard the run spools of worker '", spool_.owner,
                                      "': ", mine.status().message()));
    } else if (*mine > 0) {
      common::LogInfo(absl::StrCat("discarded ", *mine,
                                   " run spools of CreateRun calls that a previous process "
                                   "did not finish"));
    }
  }
  absl::StatusOr<int64_t> expired = store_->DiscardExpiredRunSpools();
  if (!expired.ok()) {
    common::LogWarning(
        absl::StrCat("could not discard expired run spools: ", expired.status().message()));
  } else if (*expired > 0) {
    common::LogInfo(absl::StrCat("discarded ", *expired,
                                 " expired run spools (CreateRun calls that stalled or whose "
                                 "replica is gone)"));
  }
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
  const auto key = KeyOf(tenant, std::move(name));
  LP_ASSIGN_OR_RETURN(v1::AnnotationRun run, store_->GetRun(key));
  if (run.state() == v1::RUN_STATE_UPLOADING) {
    return common::WithDetails(
        absl::FailedPreconditionError(absl::StrFormat(
            "Run '%s' is UPLOADING: its upload is still creating items in V7, which a deleted "
            "run could no longer clean up. Wait until it is ANNOTATING or FAILED (WatchRun), "
            "call CleanupRun if its V7 items should go, then DeleteRun",
            request.name())),
        "name", "RUN_UPLOADING");
  }
  // (A PENDING run claimed by a worker at this instant: its job stops at its
  // next step, as it finds the run gone.)
  LP_RETURN_IF_ERROR(store_->DeleteRun(key));
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
  if (quota_ != nullptr &&
      (run.state() == v1::RUN_STATE_FAILED || run.state() == v1::RUN_STATE_ANNOTATING)) {
    LP_RETURN_IF_ERROR(quota_->CheckRoomForRun(tenant));
  }
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
