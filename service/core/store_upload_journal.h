// StoreUploadJournal: the UploadJournal of one run, over the RunStore.
// Keeps the run's progress counters and the first sample errors in the run
// record in step with every saved progress record, in O(1) per record: the
// journal holds the counters of every record it has seen (set by one scan in
// LoadProgress, then changed by each saved record's difference from the
// record it replaces) and each save stores them, read under the run's update
// lock, so of several concurrent saves the one stored last carries every
// record saved before it, and a save whose run update failed is made good
// by the next one. The reported sample errors are the failed samples of
// lowest position, at most kMaxReportedSampleErrors (kept in an ordered map).
// Thread-safety: every method may be called from several threads at once.
//
// Threads: the store calls of every awaitable method run on `store_pool`
// (the worker's --store_threads pool) when one is given, never on the
// awaiting coroutine's thread (an I/O thread); without a pool they run
// inline on it (a caller that has no pool blocks its own thread, as before).
//
// Memory: the journal keeps 5 bytes per sample (a byte for the last record
// seen, the label count of each loaded sample) plus the errors of failed
// samples; the records and samples themselves stay in the store and are read
// in pages. LoadProgress counts a record only the first time it sees its
// position (later changes of that position come through SaveProgress), so a
// job that scans the run once at its start and then re-reads pages while it
// saves keeps exact counters.
//
// Fencing: a journal given a LeaseFence refuses every write once the fence
// is closed (ABORTED: the lease was lost or could not be renewed in time),
// so a worker that may no longer hold the lease stops at its next step
// instead of uploading beside a new owner.
#ifndef LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_
#define LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "service/backend/annotation_backend.h"
#include "service/core/lease_fence.h"
#include "service/store/run_store.h"

namespace labelport::core {

// At most this many per-sample errors are copied into the run record.
inline constexpr int kMaxReportedSampleErrors = 100;

class StoreUploadJournal : public backend::UploadJournal {
 public:
  // `store` must outlive the journal. `run` is the record when the job began.
  // `fence`, when given, is kept by whoever renews the run's lease.
  // `store_pool`, when given, runs the store calls and must outlive them.
  StoreUploadJournal(store::RunStore* store, labelport::v1::AnnotationRun run,
                     std::shared_ptr<const LeaseFence> fence = nullptr,
                     boost::asio::thread_pool* store_pool = nullptr);

  const labelport::v1::AnnotationRun& run() const override { return run_; }
  boost::asio::awaitable<absl::StatusOr<std::vector<labelport::v1::Sample>>> LoadSamples(
      int64_t start, int count) override;
  boost::asio::awaitable<absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>>>
  LoadProgress(int64_t start, int count) override;
  boost::asio::awaitable<absl::Status> SaveProgress(
      std::vector<labelport::internal::v1::SampleProgress> progress) override;
  boost::asio::awaitable<absl::Status> SaveLinks(
      std::vector<labelport::internal::v1::AnnotationLink> links) override;
  boost::asio::awaitable<absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>>>
  LoadLinksForItem(std::string item_id) override;
  boost::asio::awaitable<absl::StatusOr<google::protobuf::Any>> LoadBackendState() override;
  boost::asio::awaitable<absl::Status> SaveBackendState(google::protobuf::Any state) override;
  boost::asio::awaitable<absl::Status> SetEditorUrl(std::string url) override;
  absl::StatusOr<std::vector<labelport::v1::Sample>> LoadSamplesBlocking(int64_t start,
                                                                         int count) override;
  absl::StatusOr<std::vector<labelport::internal::v1::AnnotationLink>> LoadLinksForItemBlocking(
      const std::string& item_id) override;
  // The fence's verdict; OK without a fence.
  absl::Status CheckLease() override;

 private:
  // What the journal keeps of a record: enough to count it. 0: no record;
  // else kHasRecord | (item id known ? kHasItem : 0) | step.
  using Counted = uint8_t;
  static constexpr Counted kHasRecord = 0x80;
  static constexpr Counted kHasItem = 0x40;
  static Counted CountedOf(const labelport::internal::v1::SampleProgress& p);
  // Adds (sign +1) or removes (-1) what a record counts to counters_.
  void Count(Counted counted, int64_t position, int sign) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces the record at p.position(), adjusting counters_ and failed_.
  void Replace(const labelport::internal::v1::SampleProgress& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The blocking bodies of the awaitable methods (run on the store pool).
  absl::StatusOr<std::vector<labelport::internal::v1::SampleProgress>> LoadProgressBlocking(
      int64_t start, int count);
  absl::Status SaveProgressBlocking(
      const std::vector<labelport::internal::v1::SampleProgress>& progress);
  // Runs `call` on the store pool (inline without one).
  template <typename F>
  boost::asio::awaitable<std::invoke_result_t<F&>> OnStore(F call);

  store::RunStore* store_;
  boost::asio::thread_pool* const store_pool_;
  const std::shared_ptr<const LeaseFence> fence_;
  const labelport::v1::AnnotationRun run_;
  absl::Mutex mu_;
  // By position (grown on demand): a byte per sample for the last record
  // seen, the label count of each loaded sample (0 until loaded).
  std::vector<Counted> counted_ ABSL_GUARDED_BY(mu_);
  std::vector<int32_t> label_counts_ ABSL_GUARDED_BY(mu_);
  // What the records in counted_ count (totals from the run at the start).
  labelport::v1::RunProgress counters_ ABSL_GUARDED_BY(mu_);
  // The failed records' errors, by position.
  std::map<int64_t, labelport::v1::SampleError> failed_ ABSL_GUARDED_BY(mu_);
  // Bumped at each change of counters_ or failed_; `stored_version_` is the
  // newest version a run update has stored (saves that change neither skip
  // the run update).
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t stored_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_STORE_UPLOAD_JOURNAL_H_
