// V7ReadinessCheck: the "v7" dependency of the server's readiness. V7 is
// ready when it accepts the key of at least one tenant (one tenant's bad key
// must not take the server out of its Service). Each check uses its own
// DarwinClient per account (no retries, a short deadline), kept for the life
// of the process: a timed-out check may still be running on it.
// Thread-safety: Check may be called from any thread; checks are serialised.
#ifndef LABELPORT_SERVICE_SERVER_V7_READINESS_CHECK_H_
#define LABELPORT_SERVICE_SERVER_V7_READINESS_CHECK_H_

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

class V7ReadinessCheck {
 public:
  // `accounts`, `http` (rate-limited, not retrying) and `io` (run by other
  // threads) must outlive this object.
  V7ReadinessCheck(const TenantAccounts* accounts, http::HttpClient* http,
                   boost::asio::io_context* io, absl::Duration timeout = absl::Seconds(5));

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

#endif  // LABELPORT_SERVICE_SERVER_V7_READINESS_CHECK_H_
