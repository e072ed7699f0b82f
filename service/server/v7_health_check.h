// V7HealthCheck: the "v7" dependency the server watches (the
// `dependency_up{dependency="v7"}` metric; readiness does not follow it, see
// core/readiness_monitor.h). V7 is up when it accepts the key of at least one
// tenant. Each check uses its own DarwinClient per account (no retries, a
// short deadline), kept for the life of the process: a timed-out check may
// still be running on it.
// Thread-safety: Check may be called from any thread; checks are serialised.
#ifndef LABELPORT_SERVICE_SERVER_V7_HEALTH_CHECK_H_
#define LABELPORT_SERVICE_SERVER_V7_HEALTH_CHECK_H_

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/http/http_client.h"
#include "service/server/tenant_accounts.h"

namespace labelport::server {

class V7HealthCheck {
 public:
  // `accounts`, `http` (rate-limited, not retrying) and `io` (run by other
  // threads) must outlive this object.
  V7HealthCheck(const TenantAccounts* accounts, http::HttpClient* http, boost::asio::io_context* io,
                absl::Duration timeout = absl::Seconds(5));

  // OK when V7 accepted one tenant's key; else the last error.
  absl::Status Check();

 private:
  const TenantAccounts* accounts_;
  http::HttpClient* http_;
  boost::asio::io_context* io_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  // Probe clients by SHA-256 of (base URL, key): never the key itself.
  std::map<std::string, std::unique_ptr<backend::darwin::DarwinClient>> probes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_V7_HEALTH_CHECK_H_
