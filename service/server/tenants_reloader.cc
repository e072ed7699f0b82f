#include "service/server/tenants_reloader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/common/log.h"

namespace labelport::server {

TenantsReloader::TenantsReloader(auth::TenantDirectory* tenants, absl::Duration interval)
    : tenants_(tenants), interval_(interval) {
  if (interval_ > absl::ZeroDuration()) {
    thread_ = std::thread([this] {
      while (!stop_.WaitForNotificationWithTimeout(interval_)) ReloadNow("periodic check");
    });
  }
}

TenantsReloader::~TenantsReloader() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void TenantsReloader::ReloadNow(absl::string_view why) {
  absl::MutexLock lock(&mu_);
  auto changed = tenants_->Reload();
  if (!changed.ok()) {
    const std::string error(changed.status().message());
    if (error != last_error_)
      common::LogWarning(absl::StrCat("tenants file not reloaded (", why,
                                      "); keeping the current tenants: ", error));
    last_error_ = error;
    return;
  }
  last_error_.clear();
  if (*changed || why == "SIGHUP")
    common::LogInfo(absl::StrCat("tenants file reloaded (", why, "): tenants ",
                                 absl::StrJoin(tenants_->TenantNames(), ", ")));
}

}  // namespace labelport::server
