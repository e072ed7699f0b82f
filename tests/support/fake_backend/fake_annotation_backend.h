// FakeAnnotationBackend and FakeBackendProvider: an AnnotationBackend test
// double that works in memory, with no network, for tests that run core and
// the gRPC API end to end (tests/unit/api).
//
//   UploadRun  - records every sample of the run as imported through the
//                journal (SAMPLE_STEP_LABELS_IMPORTED), the samples named by
//                FailSamples as FAILED instead, then returns the configured
//                result (OK by default): the worker then moves the run to
//                ANNOTATING (or FAILED).
//   LoadRun    - reports progress (EXPORT_REQUESTED, EXPORT_READY, then
//                PARSING with the run's sample count), then streams one
//                LoadedSample per stored sample with one LoadedField per
//                schema field: the stored value (nothing changed in "V7"),
//                or what SetDownloaded gave for that sample and field.
//                Returns the configured result after the samples.
//   GetStatus  - the configured response (default: every sample "new").
//   Cleanup    - the configured response (default: items_deleted = the
//                run's sample count).
//
// Holding: Hold(call) makes calls of that kind wait at a fixed point
// (UploadRun before it records anything; LoadRun after its first progress
// message; GetStatus and Cleanup before they answer) until Release(call).
// A held call honours the terminal Asio cancellation of its coroutine (the
// client cancelled, or its deadline passed): it stops waiting and returns
// CANCELLED, as DarwinBackend does. The counters say how many calls of each
// kind started, are waiting, were cancelled while waiting and ended, so a
// test can wait for "the load is held" and check "the backend saw the
// cancellation" without sleeping; request_ids() which RPC's request id the
// call's log lines carried.
//
// Thread-safety: every method may be called from any thread; calls of the
// backend itself may run concurrently on any executor.
#ifndef LABELPORT_TESTS_SUPPORT_FAKE_BACKEND_FAKE_ANNOTATION_BACKEND_H_
#define LABELPORT_TESTS_SUPPORT_FAKE_BACKEND_FAKE_ANNOTATION_BACKEND_H_

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labelport/v1/annotation_service.pb.h"
#include "labelport/v1/labels.pb.h"
#include "service/backend/annotation_backend.h"
#include "service/backend/backend_capabilities.h"
#include "service/backend/backend_provider.h"

namespace labelport::testing {

// What the fake backend supports: deliberately not Darwin's (another name,
// no segmentation or single detections, FiftyOne's select/radio/checkbox
// attributes), so that tests see core take its rules from the backend.
const backend::BackendCapabilities& FakeCapabilities();

class FakeAnnotationBackend final : public backend::AnnotationBackend {
 public:
  enum class Call { kUpload = 0, kLoad = 1, kStatus = 2, kCleanup = 3 };

  // What happened to calls of one kind so far.
  struct Counts {
    int started = 0;
    // Held at the call's gate now.
    int waiting = 0;
    // Stopped waiting because their coroutine was cancelled.
    int cancelled = 0;
    // Returned (whatever the result).
    int ended = 0;
  };

  FakeAnnotationBackend() = default;
  FakeAnnotationBackend(const FakeAnnotationBackend&) = delete;
  FakeAnnotationBackend& operator=(const FakeAnnotationBackend&) = delete;

  // --- Configuration (before or between calls).

  // UploadRun records the samples with these client ids as FAILED at stage
  // "upload" with `message` (others as imported).
  void FailSamples(std::set<std::string> sample_ids, std::string message);
  // What UploadRun returns after recording the samples (default OK); an
  // error fails the run as a whole.
  void SetUploadResult(absl::Status status);
  // What LoadRun hands out for `field` of `sample_id` instead of the stored
  // value (a label added, edited or deleted in "V7").
  void SetDownloaded(const std::string& sample_id, const std::string& field,
                     labelport::v1::FieldValue value);
  // What LoadRun returns after streaming the samples (default OK).
  void SetLoadResult(absl::Status status);
  // GetStatus's answer; unset: every sample of the run in status "new".
  void SetStatusResult(absl::StatusOr<labelport::v1::GetRunStatusResponse> result);
  // Cleanup's answer; unset: items_deleted = the run's sample count.
  void SetCleanupResult(absl::StatusOr<labelport::v1::CleanupRunResponse> result);

  // Calls of kind `call` that reach their gate from now on wait there until
  // Release(call) (calls already past it are unaffected).
  void Hold(Call call);
  // Lets the calls waiting at `call`'s gate, and later ones, pass.
  void Release(Call call);
  // Releases every gate (a fixture's tear-down, before its io_context stops).
  void ReleaseAll();

  Counts counts(Call call) const;
  // The run names (datasets/D/runs/K) UploadRun was called for, in order.
  std::vector<std::string> uploaded_runs() const;
  // The request id in scope (common::CurrentRequestId, the id of the log
  // lines) when each call of kind `call` started, in order.
  std::vector<std::string> request_ids(Call call) const;

  // --- AnnotationBackend.
  const backend::BackendCapabilities& Capabilities() const override { return FakeCapabilities(); }
  boost::asio::awaitable<absl::Status> UploadRun(backend::UploadJournal& journal) override;
  boost::asio::awaitable<absl::Status> LoadRun(backend::UploadJournal& journal,
                                               backend::LoadSink& sink) override;
  boost::asio::awaitable<absl::StatusOr<labelport::v1::GetRunStatusResponse>> GetStatus(
      backend::UploadJournal& journal) override;
  boost::asio::awaitable<absl::StatusOr<labelport::v1::CleanupRunResponse>> Cleanup(
      backend::UploadJournal& journal) override;

 private:
  using Channel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  struct Gate {
    bool open = true;
    // One single-slot channel per waiting call: Release's try_send is never
    // lost, whether or not the waiter is suspended yet.
    std::vector<std::shared_ptr<Channel>> waiters;
  };

  // Waits while `call`'s gate is closed. False when the awaiting coroutine
  // was cancelled meanwhile (counted).
  boost::asio::awaitable<bool> Pass(Call call);
  void Started(Call call);
  void Ended(Call call);
  // Every sample of the run, in upload order, read through the journal.
  static boost::asio::awaitable<absl::StatusOr<std::vector<labelport::v1::Sample>>> AllSamples(
      backend::UploadJournal& journal);

  mutable absl::Mutex mu_;
  std::array<Gate, 4> gates_ ABSL_GUARDED_BY(mu_);
  std::array<Counts, 4> counts_ ABSL_GUARDED_BY(mu_);
  std::array<std::vector<std::string>, 4> request_ids_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> failing_samples_ ABSL_GUARDED_BY(mu_);
  std::string failure_message_ ABSL_GUARDED_BY(mu_);
  absl::Status upload_result_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, labelport::v1::FieldValue> downloaded_
      ABSL_GUARDED_BY(mu_);
  absl::Status load_result_ ABSL_GUARDED_BY(mu_);
  bool status_set_ ABSL_GUARDED_BY(mu_) = false;
  absl::StatusOr<labelport::v1::GetRunStatusResponse> status_result_ ABSL_GUARDED_BY(mu_);
  bool cleanup_set_ ABSL_GUARDED_BY(mu_) = false;
  absl::StatusOr<labelport::v1::CleanupRunResponse> cleanup_result_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> uploaded_runs_ ABSL_GUARDED_BY(mu_);
};

// Hands out one backend for every tenant, except the tenants told to have
// no credentials: those get FAILED_PRECONDITION naming the tenant, as the
// server's DarwinBackendProvider answers for a tenant without a V7 key.
class FakeBackendProvider final : public backend::BackendProvider {
 public:
  explicit FakeBackendProvider(std::shared_ptr<backend::AnnotationBackend> backend)
      : backend_(std::move(backend)) {}

  // `tenant` has no credentials from now on.
  void RemoveCredentials(const std::string& tenant);
  // The tenants asked for, in order (one entry per call).
  std::vector<std::string> requested_tenants() const;

  absl::StatusOr<std::shared_ptr<backend::AnnotationBackend>> BackendFor(
      const std::string& tenant) override;
  const backend::BackendCapabilities& Capabilities() const override { return FakeCapabilities(); }

 private:
  const std::shared_ptr<backend::AnnotationBackend> backend_;
  mutable absl::Mutex mu_;
  std::set<std::string> without_credentials_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requested_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_SUPPORT_FAKE_BACKEND_FAKE_ANNOTATION_BACKEND_H_
