// DarwinBackendProvider: one DarwinClient + DarwinBackend per tenant, built
// on first use from the tenant's V7 account and rebuilt when that account
// (key, URL, media directory or media roots) changes. All of them share one
// HttpClient stack for V7, so pooled connections and the
// per-key rate limiter (keyed by the key's digest, see RateLimitedHttpClient)
// are shared too: two tenants with different keys get separate buckets, two
// tenants with one key share one. Media URLs are fetched through a second,
// separate stack (the egress policy, its own metrics label, no V7 rate
// limiter).
//
// Thread-safety: BackendFor may be called concurrently.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_PROVIDER_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_PROVIDER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "service/backend/backend_provider.h"
#include "service/backend/darwin/darwin_backend.h"
#include "service/backend/darwin/darwin_capabilities.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/http/http_client.h"

namespace labelport::backend::darwin {

// What a tenant's backend is built from. Never logged.
struct DarwinTenantAccount {
  std::string api_key;
  std::string base_url;
  // Where the tenant's uploaded media (content digests) live.
  std::string media_dir;
  // The directories its media references by server path may name
  // (normalised; empty: none).
  std::vector<std::string> media_roots;
};

class DarwinBackendProvider : public BackendProvider {
 public:
  // Returns the tenant's account, or an error to hand to the caller
  // (typically FAILED_PRECONDITION when the tenant has no key).
  using AccountLookup = std::function<absl::StatusOr<DarwinTenantAccount>(const std::string&)>;

  // `http` (V7 calls; it must not retry: DarwinClient does) and
  // `media_http` (media URLs) must outlive the provider and every backend
  // it returned. `options` are used for every backend, with media_dir and
  // media_paths.roots from the account; `client_options` for every client
  // (retry policy, step timeout, retry hooks), with base_url and api_key
  // from the account.
  DarwinBackendProvider(http::HttpClient* http, http::HttpClient* media_http, AccountLookup lookup,
                        DarwinBackend::Options options, DarwinClient::Options client_options = {});

  absl::StatusOr<std::shared_ptr<AnnotationBackend>> BackendFor(const std::string& tenant) override;
  // DarwinCapabilities().
  const BackendCapabilities& Capabilities() const override { return DarwinCapabilities(); }

 private:
  struct Entry {
    std::string fingerprint;  // digest of the account it was built from
    std::unique_ptr<DarwinClient> client;
    std::unique_ptr<DarwinBackend> backend;
  };

  http::HttpClient* http_;
  http::HttpClient* media_http_;
  AccountLookup lookup_;
  DarwinBackend::Options options_;
  DarwinClient::Options client_options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_BACKEND_PROVIDER_H_
