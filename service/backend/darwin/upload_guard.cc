#include "service/backend/darwin/upload_guard.h"

namespace labelport::backend::darwin {

UploadGuard::UploadGuard(UploadJournal& journal, std::string run_uid, V7OutageWait::Options outage,
                         V7OutageWait::Probe probe)
    : journal_(journal),
      run_uid_(std::move(run_uid)),
      outage_(std::move(probe), std::move(outage)) {}

std::unique_ptr<LeaseWatch> UploadGuard::StopWhenFenced() {
  return journal_.WatchLease([this](const absl::Status& closed) { (void)StopWith(closed); });
}

absl::Status UploadGuard::StopStatus() {
  absl::MutexLock lock(&mu_);
  return stop_;
}

bool UploadGuard::Stopped() { return !StopStatus().ok(); }

absl::Status UploadGuard::StopWith(absl::Status s) {
  absl::MutexLock lock(&mu_);
  if (stop_.ok()) stop_ = s;
  return s;
}

absl::Status UploadGuard::Fence() {
  if (absl::Status stopped = StopStatus(); !stopped.ok()) return stopped;
  absl::Status lease = journal_.CheckLease();
  if (!lease.ok()) return StopWith(lease);
  return absl::OkStatus();
}

}  // namespace labelport::backend::darwin
