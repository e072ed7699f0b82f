#include "service/server/v7_health_check.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/sha256.h"

namespace labelport::server {

V7HealthCheck::V7HealthCheck(const TenantAccounts* accounts, http::HttpClient* http,
                             boost::asio::io_context* io, absl::Duration timeout)
    : accounts_(accounts), http_(http), io_(io), timeout_(timeout) {}

absl::Status V7HealthCheck::Check() {
  absl::MutexLock lock(&mu_);
  // No tenant with a key: like a server without one, the store alone decides.
  absl::Status last = absl::OkStatus();
  for (const std::string& tenant : accounts_->TenantNames()) {
    auto account = accounts_->Lookup(tenant);
    if (!account.ok()) continue;
    std::unique_ptr<backend::darwin::DarwinClient>& probe =
        probes_[common::Sha256Hex(absl::StrCat(account->base_url, "\n", account->api_key))];
    if (probe == nullptr) {
      auto created = backend::darwin::DarwinClient::Create(http_, /*limiter=*/nullptr,
                                                           {.base_url = account->base_url,
                                                            .api_key = account->api_key,
                                                            .request_timeout = timeout_});
      if (!created.ok()) {
        last = created.status();
        continue;
      }
      probe = *std::move(created);
    }
    std::future<absl::Status> checked =
        boost::asio::co_spawn(*io_, probe->CheckAccess(), boost::asio::use_future);
    if (checked.wait_for(absl::ToChronoSeconds(timeout_) + std::chrono::seconds(1)) !=
        std::future_status::ready) {
      last = absl::DeadlineExceededError("V7 did not answer in time");
      continue;
    }
    last = checked.get();
    if (last.ok()) return last;
  }
  return last;
}

}  // namespace labelport::server
