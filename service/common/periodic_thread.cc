#include "service/common/periodic_thread.h"

#include <utility>

namespace labelport::common {

PeriodicThread::PeriodicThread(absl::Duration interval, std::function<void()> tick)
    : interval_(interval), tick_(std::move(tick)) {}

PeriodicThread::~PeriodicThread() { Stop(); }

void PeriodicThread::Start() {
  if (thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicThread::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::Loop() {
  while (true) {
    tick_();
    absl::MutexLock lock(&mu_);
    const absl::Time wake_at = absl::Now() + interval_;
    while (!stopping_ && absl::Now() < wake_at) {
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), wake_at);
    }
    if (stopping_) return;
  }
}

}  // namespace labelport::common
