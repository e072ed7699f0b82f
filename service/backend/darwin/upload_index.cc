#include "service/backend/darwin/upload_index.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace labelport::backend::darwin {

using labelport::internal::v1::SampleProgress;
using labelport::internal::v1::SampleStep;

uint64_t ItemHash(absl::string_view item_id) {
  if (item_id.empty()) return 0;
  const uint64_t h = absl::Hash<absl::string_view>{}(item_id);
  return h == 0 ? 1 : h;
}

SampleStep RetryStepOf(const SampleProgress& p) {
  if (p.step() != labelport::internal::v1::SAMPLE_STEP_FAILED) return p.step();
  if (p.item_id().empty()) return labelport::internal::v1::SAMPLE_STEP_UNSPECIFIED;
  if (p.error_stage() == "import_labels") return labelport::internal::v1::SAMPLE_STEP_PROCESSED;
  return labelport::internal::v1::SAMPLE_STEP_REGISTERED;
}

SampleProgress AsRetried(SampleProgress p, SampleStep indexed) {
  if (p.step() != labelport::internal::v1::SAMPLE_STEP_FAILED ||
      indexed == labelport::internal::v1::SAMPLE_STEP_FAILED)
    return p;
  p.set_attempts(p.attempts() + 1);
  p.set_step(indexed);
  p.clear_error_stage();
  p.clear_error_message();
  return p;
}

void UploadIndex::Reset(int64_t samples) {
  absl::MutexLock lock(&mu_);
  index_.clear();
  item_hash_.clear();
  index_.reserve(samples);
  item_hash_.reserve(samples);
}

void UploadIndex::AddWindow(int64_t start, const std::vector<bool>& has_labels,
                            const std::vector<SampleProgress>& records) {
  absl::MutexLock lock(&mu_);
  index_.resize(start + has_labels.size(), 0);
  item_hash_.resize(index_.size(), 0);
  for (size_t k = 0; k < has_labels.size(); ++k)
    if (has_labels[k]) index_[start + k] |= kHasLabels;
  for (const SampleProgress& p : records) {
    const int64_t i = p.position();
    if (i < start || i >= static_cast<int64_t>(index_.size())) continue;
    index_[i] = static_cast<uint8_t>((index_[i] & kHasLabels) | kResumed | RetryStepOf(p));
    item_hash_[i] = ItemHash(p.item_id());
  }
}

int64_t UploadIndex::size() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(index_.size());
}

SampleStep UploadIndex::StepAt(int64_t i) {
  absl::MutexLock lock(&mu_);
  return static_cast<SampleStep>(index_[i] & kStepMask);
}

bool UploadIndex::HasLabelsAt(int64_t i) {
  absl::MutexLock lock(&mu_);
  return (index_[i] & kHasLabels) != 0;
}

void UploadIndex::Index(const SampleProgress& p) {
  absl::MutexLock lock(&mu_);
  const int64_t i = p.position();
  index_[i] = static_cast<uint8_t>((index_[i] & ~kStepMask) | (p.step() & kStepMask));
  item_hash_[i] = ItemHash(p.item_id());
}

void UploadIndex::SetFlag(int64_t i, uint8_t flag) {
  absl::MutexLock lock(&mu_);
  index_[i] |= flag;
}

void UploadIndex::ClearFlagEverywhere(uint8_t flag) {
  absl::MutexLock lock(&mu_);
  for (uint8_t& entry : index_) entry &= static_cast<uint8_t>(~flag);
}

size_t UploadIndex::CountAt(SampleStep step) {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (uint8_t entry : index_) n += (entry & kStepMask) == step ? 1 : 0;
  return n;
}

std::vector<int64_t> UploadIndex::PositionsAt(SampleStep step, int64_t from, int64_t to, size_t max,
                                              uint8_t flags) {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> out;
  to = std::min(to, static_cast<int64_t>(index_.size()));
  for (int64_t i = from; i < to && out.size() < max; ++i) {
    if ((index_[i] & kStepMask) == step && (index_[i] & flags) == flags) out.push_back(i);
  }
  return out;
}

std::optional<int64_t> UploadIndex::NextAt(SampleStep step, int64_t* cursor) {
  absl::MutexLock lock(&mu_);
  for (int64_t i = *cursor; i < static_cast<int64_t>(index_.size()); ++i) {
    if ((index_[i] & kStepMask) != step) continue;
    *cursor = i + 1;
    return i;
  }
  *cursor = static_cast<int64_t>(index_.size());
  return std::nullopt;
}

std::vector<uint32_t> UploadIndex::PositionsByItemHash(SampleStep step) {
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> by_hash;
  for (size_t i = 0; i < index_.size(); ++i)
    if ((index_[i] & kStepMask) == step) by_hash.push_back(static_cast<uint32_t>(i));
  std::sort(by_hash.begin(), by_hash.end(),
            [this](uint32_t a, uint32_t b)
                ABSL_NO_THREAD_SAFETY_ANALYSIS { return item_hash_[a] < item_hash_[b]; });
  return by_hash;
}

std::vector<std::pair<int64_t, size_t>> UploadIndex::MatchItems(
    const std::vector<uint32_t>& by_hash, const std::vector<DarwinItem>& items) {
  std::vector<std::pair<int64_t, size_t>> matches;  // (position, item)
  {
    absl::MutexLock lock(&mu_);
    for (size_t j = 0; j < items.size(); ++j) {
      const uint64_t h = ItemHash(items[j].id);
      auto it =
          std::lower_bound(by_hash.begin(), by_hash.end(), h,
                           [this](uint32_t pos, uint64_t value)
                               ABSL_NO_THREAD_SAFETY_ANALYSIS { return item_hash_[pos] < value; });
      for (; it != by_hash.end() && item_hash_[*it] == h; ++it) matches.emplace_back(*it, j);
    }
  }
  std::sort(matches.begin(), matches.end());
  return matches;
}

}  // namespace labelport::backend::darwin
