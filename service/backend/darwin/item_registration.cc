#include "service/backend/darwin/item_registration.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/backend/darwin/media_source.h"

namespace labelport::backend::darwin {

namespace v1 = labelport::v1;
using labelport::internal::v1::SampleProgress;

std::string SafeSegment(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += c;
    } else {
      absl::StrAppend(&out, "~", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

ItemRegistration RegistrationOf(const v1::Sample& s, absl::string_view run_uid) {
  ItemRegistration r;
  r.name = MediaFileName(s.media());
  r.file_name = r.name;
  r.path = absl::StrCat("/", run_uid.substr(0, 12), "/", SafeSegment(s.id()));
  r.type = s.media_type() == v1::MEDIA_TYPE_VIDEO ? "video" : "image";
  if (s.media().has_storage()) r.storage_key = s.media().storage().storage_key();
  return r;
}

std::string StorageSlugOf(const v1::Sample& s, const std::string& run_storage) {
  const auto& m = s.media();
  return m.storage().storage_slug().empty() ? run_storage : m.storage().storage_slug();
}

std::vector<RegistrationBatch> RegistrationBatches(const std::vector<v1::Sample>& samples,
                                                   const std::vector<size_t>& todo,
                                                   const std::string& run_storage, int batch_size) {
  // Keyed "" for uploads, "storage:<slug>" for each connection.
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t k : todo) {
    const v1::Sample& sample = samples[k];
    const std::string key = sample.media().has_storage()
                                ? absl::StrCat("storage:", StorageSlugOf(sample, run_storage))
                                : "";
    groups[key].push_back(k);
  }
  std::vector<RegistrationBatch> out;
  const auto size = static_cast<size_t>(batch_size);
  for (auto& [key, members] : groups) {
    for (size_t b = 0; b < members.size(); b += size) {
      const size_t e = std::min(members.size(), b + size);
      RegistrationBatch batch;
      batch.storage = !key.empty();
      if (batch.storage) batch.storage_slug = StorageSlugOf(samples[members[b]], run_storage);
      batch.members.assign(members.begin() + static_cast<std::ptrdiff_t>(b),
                           members.begin() + static_cast<std::ptrdiff_t>(e));
      out.push_back(std::move(batch));
    }
  }
  return out;
}

bool ApplyRegistered(const RegisteredItem& item, bool storage, SampleProgress* p) {
  p->set_item_id(item.item_id);
  if (item.blocked_reason.empty()) {
    p->set_upload_id(item.upload_id);
    p->set_step(storage ? labelport::internal::v1::SAMPLE_STEP_UPLOADED
                        : labelport::internal::v1::SAMPLE_STEP_REGISTERED);
    return false;
  }
  if (absl::EqualsIgnoreCase(item.blocked_reason, "ALREADY_EXISTS") && !item.item_id.empty()) {
    p->set_step(labelport::internal::v1::SAMPLE_STEP_REGISTERED);
    return true;
  }
  p->set_step(labelport::internal::v1::SAMPLE_STEP_FAILED);
  p->set_error_stage("register");
  p->set_error_message(
      absl::StrCat("V7 refused the item '", item.name, "': ", item.blocked_reason));
  return false;
}

std::optional<std::string> ApplyResumedItem(const DarwinItem* item, SampleProgress* p) {
  std::optional<std::string> orphan;
  if (item == nullptr) {
    p->set_step(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED);
    p->clear_item_id();
    p->clear_upload_id();
  } else if (item->status == "uploading") {
    if (!item->pending_upload_ids.empty()) {
      p->set_upload_id(item->pending_upload_ids.front());
    } else if (p->upload_id().empty()) {
      orphan = p->item_id();
      p->set_step(labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED);
      p->clear_item_id();
      p->clear_upload_id();
    }
  } else {
    p->set_step(labelport::internal::v1::SAMPLE_STEP_UPLOADED);
  }
  return orphan;
}

}  // namespace labelport::backend::darwin
