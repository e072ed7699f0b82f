// TenantsReloader: re-reads the tenants file every `interval` (0: never) on
// its own thread, and on demand (SIGHUP), and logs what changed. A file that
// fails to load keeps the current tenants; the error is logged once until it
// changes, and it never contains a secret.
// Thread-safety: ReloadNow may be called from any thread.
#ifndef LABELPORT_SERVICE_SERVER_TENANTS_RELOADER_H_
#define LABELPORT_SERVICE_SERVER_TENANTS_RELOADER_H_

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/auth/tenant_directory.h"

namespace labelport::server {

class TenantsReloader {
 public:
  // `tenants` must outlive the reloader.
  TenantsReloader(auth::TenantDirectory* tenants, absl::Duration interval);
  // Stops and joins the thread.
  ~TenantsReloader();

  void ReloadNow(absl::string_view why);

 private:
  auth::TenantDirectory* tenants_;
  absl::Duration interval_;
  absl::Notification stop_;
  absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_TENANTS_RELOADER_H_
