// Internal to the store layer: decoded run records by (run id, revision),
// so that reading a run whose record has not changed skips parsing it.
//
// A run's whole record (its blob and the store-owned fields: key, uid,
// times) is fixed for a (run id, revision): the RunStore increments
// `revision` with every UpdateRun and RenameRun, which are the only changes
// of the blob, the key or update_time, and CreateRun makes a new run id.
// So the entry found under the revision just read from the database is the
// record that row holds. One entry per run (the newest revision put); at
// most `capacity` runs, beyond which an arbitrary entry makes room.
//
// Thread-safety: all methods may be called concurrently.
#ifndef LABELPORT_SERVICE_STORE_RUN_RECORD_CACHE_H_
#define LABELPORT_SERVICE_STORE_RUN_RECORD_CACHE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "labelport/v1/annotation_run.pb.h"

namespace labelport::store {

class RunRecordCache {
 public:
  using Record = std::shared_ptr<const labelport::v1::AnnotationRun>;

  explicit RunRecordCache(size_t capacity = 4096);
  RunRecordCache(const RunRecordCache&) = delete;
  RunRecordCache& operator=(const RunRecordCache&) = delete;

  // The record of run `run_id` at `revision`; null when not cached.
  Record Find(absl::string_view run_id, int64_t revision) const;
  // Remembers `record` as run `run_id` at `revision` (replacing an older
  // revision of the run).
  void Put(absl::string_view run_id, int64_t revision, Record record);

 private:
  // Shards keep concurrent readers of different runs off one lock.
  static constexpr size_t kShards = 16;
  struct Entry {
    int64_t revision = 0;
    Record record;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  };

  Shard& ShardOf(absl::string_view run_id) const;

  const size_t capacity_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_RUN_RECORD_CACHE_H_
