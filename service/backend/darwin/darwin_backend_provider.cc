#include "service/backend/darwin/darwin_backend_provider.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/common/sha256.h"

namespace labelport::backend::darwin {

DarwinBackendProvider::DarwinBackendProvider(http::HttpClient* http, http::HttpClient* media_http,
                                             AccountLookup lookup, DarwinBackend::Options options,
                                             DarwinClient::Options client_options)
    : http_(http),
      media_http_(media_http),
      lookup_(std::move(lookup)),
      options_(std::move(options)),
      client_options_(std::move(client_options)) {}

absl::StatusOr<std::shared_ptr<AnnotationBackend>> DarwinBackendProvider::BackendFor(
    const std::string& tenant) {
  auto account = lookup_(tenant);
  if (!account.ok()) return account.status();
  const std::string fingerprint = common::Sha256Hex(
      absl::StrCat(account->base_url, "\n", account->media_dir, "\n",
                   absl::StrJoin(account->media_roots, "\n"), "\n\n", account->api_key));
  absl::MutexLock lock(&mu_);
  std::shared_ptr<Entry>& entry = entries_[tenant];
  if (entry == nullptr || entry->fingerprint != fingerprint) {
    // The client is built without its own limiter: the shared HTTP stack
    // rate-limits every attempt per key.
    DarwinClient::Options client_options = client_options_;
    client_options.base_url = account->base_url;
    client_options.api_key = account->api_key;
    auto client = DarwinClient::Create(http_, /*limiter=*/nullptr, std::move(client_options));
    if (!client.ok())
      return absl::Status(client.status().code(), absl::StrCat("V7 settings of tenant '", tenant,
                                                               "': ", client.status().message()));
    auto fresh = std::make_shared<Entry>();
    fresh->fingerprint = fingerprint;
    fresh->client = *std::move(client);
    DarwinBackend::Options options = options_;
    options.media_dir = account->media_dir;
    options.media_paths.roots = account->media_roots;
    fresh->backend = std::make_unique<DarwinBackend>(fresh->client.get(), media_http_, options);
    // Jobs still holding the previous entry keep it alive until they end.
    entry = std::move(fresh);
  }
  return std::shared_ptr<AnnotationBackend>(entry, entry->backend.get());
}

}  // namespace labelport::backend::darwin
