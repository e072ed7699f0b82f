#include "service/store/run_record_cache.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace labelport::store {

RunRecordCache::RunRecordCache(size_t capacity)
    : capacity_per_shard_(std::max<size_t>(1, capacity / kShards)) {}

RunRecordCache::Shard& RunRecordCache::ShardOf(absl::string_view run_id) const {
  return shards_[absl::HashOf(run_id) % kShards];
}

RunRecordCache::Record RunRecordCache::Find(absl::string_view run_id, int64_t revision) const {
  Shard& shard = ShardOf(run_id);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(run_id);
  if (it == shard.entries.end() || it->second.revision != revision) return nullptr;
  return it->second.record;
}

void RunRecordCache::Put(absl::string_view run_id, int64_t revision, Record record) {
  Shard& shard = ShardOf(run_id);
  Record evicted;  // destroyed outside the lock
  absl::MutexLock lock(&shard.mu);
  auto it = shard.entries.find(run_id);
  if (it != shard.entries.end()) {
    // Concurrent readers may put revisions out of order: keep the newest.
    if (it->second.revision > revision) return;
    evicted = std::exchange(it->second.record, std::move(record));
    it->second.revision = revision;
    return;
  }
  if (shard.entries.size() >= capacity_per_shard_) {
    evicted = std::move(shard.entries.begin()->second.record);
    shard.entries.erase(shard.entries.begin());
  }
  shard.entries.emplace(std::string(run_id), Entry{revision, std::move(record)});
}

}  // namespace labelport::store
