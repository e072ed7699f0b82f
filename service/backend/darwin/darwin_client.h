// DarwinClient: typed V7 Darwin REST endpoints over the HttpClient port
// (spec: darwin-api.md §1-§6; E-numbers refer to its endpoint catalogue).
//
// Every call:
//   - goes through the rate limiter (one token per V7 API call; signed
//     upload/download URLs are not V7 API calls and take no token);
//   - carries `Authorization: ApiKey <key>` to V7 API URLs only (never to
//     signed URLs) and a deadline of now + Options::request_timeout;
//   - is sent through the HttpClient given (the retrying decorator in
//     production), marked idempotent for GET/PUT/DELETE;
//   - maps failures to absl::Status: 401 → UNAUTHENTICATED, 403 →
//     PERMISSION_DENIED, 404 → NOT_FOUND, 422 "has already been taken" /
//     "already exists" → ALREADY_EXISTS, other 422/400 → INVALID_ARGUMENT,
//     413 → RESOURCE_EXHAUSTED, 429/5xx (after retries) → UNAVAILABLE;
//     malformed JSON → INTERNAL. Messages name the method and the endpoint
//     path (never the key, never query values).
// Thread-safety: calls may run concurrently; cached values (team slug,
// annotation types) are guarded.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/backend/darwin/darwin_types.h"
#include "service/http/http_client.h"
#include "service/http/token_bucket_rate_limiter.h"

namespace labelport::backend::darwin {

class DarwinClient {
 public:
  struct Options {
    // V7 base URL without trailing "/" (trailing slashes are stripped).
    std::string base_url = "https://darwin.v7labs.com";
    // The API key. Never logged, never in errors.
    std::string api_key;
    absl::Duration request_timeout = absl::Seconds(60);
  };

  // `http` and `limiter` must outlive the client. `limiter` may be null when
  // the transport below rate-limits every attempt (RateLimitedHttpClient under
  // the retry layer, as labelport-server wires it). INVALID_ARGUMENT for an
  // empty key or a malformed base URL.
  static absl::StatusOr<std::unique_ptr<DarwinClient>> Create(http::HttpClient* http,
                                                              http::TokenBucketRateLimiter* limiter,
                                                              Options options);

  // E1: the key's team slug (cached after the first success).
  boost::asio::awaitable<absl::StatusOr<std::string>> TeamSlug();

  // E1, never cached: OK when V7 answers and accepts the key (readiness).
  // UNAUTHENTICATED / PERMISSION_DENIED for a refused key, UNAVAILABLE or
  // DEADLINE_EXCEEDED when V7 cannot be reached.
  boost::asio::awaitable<absl::Status> CheckAccess();

  // E4: the team's datasets (non-archived).
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinDataset>>> ListDatasets();
  // E4 then E5 when absent: the dataset with exactly this slug. Safe to retry
  // (a concurrent create that wins makes this re-list and return it).
  boost::asio::awaitable<absl::StatusOr<DarwinDataset>> GetOrCreateDataset(std::string slug);

  // E23: registers items for upload in one call. Results are in request
  // order (matched by path + name).
  boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> RegisterUpload(
      std::string dataset_slug, std::vector<ItemRegistration> items);
  // E24: a signed upload URL.
  boost::asio::awaitable<absl::StatusOr<std::string>> SignUpload(std::string upload_id);
  // E25: PUT of the bytes to a signed URL (no Authorization, no rate-limit
  // token). `body_factory` yields the bytes once per attempt.
  boost::asio::awaitable<absl::Status> PutSignedUpload(
      std::string upload_url, std::function<http::BodyChunkSource()> body_factory,
      int64_t size_bytes);
  // E26.
  boost::asio::awaitable<absl::Status> ConfirmUpload(std::string upload_id);
  // E28: registers external-storage items in one call (results in order).
  boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> RegisterExisting(
      std::string dataset_slug, std::string storage_slug, std::vector<ItemRegistration> items);

  // E21, all pages: the dataset's items, optionally only `item_ids`
  // (sent in chunks that keep URLs short).
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinItem>>> ListItems(
      int64_t dataset_id, std::vector<std::string> item_ids);

  // E11: every class of the team.
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinClass>>> ListAnnotationClasses();
  // E10 (cached) then E12: creates a class with main type `types[0]` and
  // sub-types `types[1..]`, attached to `dataset_id`.
  boost::asio::awaitable<absl::StatusOr<DarwinClass>> CreateAnnotationClass(
      int64_t dataset_id, std::string name, std::vector<std::string> types);
  // E13: adds `dataset_id` to the class's datasets (read-modify-write of the
  // membership listed in `cls`).
  boost::asio::awaitable<absl::Status> AddClassToDataset(const DarwinClass& cls,
                                                         int64_t dataset_id);

  // E16: properties, optionally of one class, with values.
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinProperty>>> ListProperties(
      std::optional<int64_t> annotation_class_id);
  // E17.
  boost::asio::awaitable<absl::StatusOr<DarwinProperty>> CreateProperty(PropertyDefinition def);
  // E18: appends `values` (only missing ones should be passed).
  boost::asio::awaitable<absl::StatusOr<DarwinProperty>> AddPropertyValues(
      const DarwinProperty& property, std::vector<std::string> values);

  // E35: imports `annotations` (import-format objects, each with an "id")
  // into the item; `overwrite` replaces what the item had.
  boost::asio::awaitable<absl::Status> ImportAnnotations(std::string item_id,
                                                         boost::json::array annotations,
                                                         bool overwrite);

  // E38: starts a Darwin JSON 2.0 export called `name` (with authorship, no
  // URL tokens) of the dataset's items `item_ids` that are neither archived
  // nor in error; an empty `item_ids` exports all such items. A name already
  // used gives ALREADY_EXISTS. Not retried (POST).
  boost::asio::awaitable<absl::Status> CreateExport(std::string dataset_slug, std::string name,
                                                    std::vector<std::string> item_ids);
  // E39: the dataset's exports, as listed (a download_url of null is unset).
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinExport>>> ListExports(
      std::string dataset_slug);
  // DELETE /api/v2/teams/{team}/datasets/{slug}/exports/{name}. NOT_FOUND
  // when the export does not exist (callers cleaning up may ignore it).
  boost::asio::awaitable<absl::Status> DeleteExport(std::string dataset_slug, std::string name);
  // E40: streams `download_url` into `file_path` (created or truncated) and
  // returns the number of bytes written. Like the signed upload: no
  // Authorization, no rate-limit token; the deadline is now + `timeout`.
  // Errors name the URL without its query (signature): non-2xx → NOT_FOUND
  // (404, 410) or UNAVAILABLE (others); fewer bytes than the response's
  // Content-Length → DATA_LOSS; a file that cannot be written → INTERNAL;
  // transport errors keep their code. The file is removed on any error.
  boost::asio::awaitable<absl::StatusOr<int64_t>> DownloadExport(std::string download_url,
                                                                 std::string file_path,
                                                                 absl::Duration timeout);

  // E32: permanently deletes `item_ids` of the dataset (DELETE with a JSON
  // body, in chunks of 500 ids). No call for an empty list.
  boost::asio::awaitable<absl::Status> DeleteItems(int64_t dataset_id,
                                                   std::vector<std::string> item_ids);
  // E41: the team's workflows.
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinWorkflow>>> ListWorkflows();
  // E43: detaches the workflow's dataset.
  boost::asio::awaitable<absl::Status> UnlinkWorkflowDataset(std::string workflow_id);
  // E44.
  boost::asio::awaitable<absl::Status> DeleteWorkflow(std::string workflow_id);
  // E7: archives (soft-deletes) the dataset; body `{}`.
  boost::asio::awaitable<absl::Status> ArchiveDataset(int64_t dataset_id);

  // The browser URL of a dataset: {base}/datasets/{id}.
  std::string EditorUrl(int64_t dataset_id) const;

  const Options& options() const { return options_; }

 private:
  DarwinClient(http::HttpClient* http, http::TokenBucketRateLimiter* limiter, Options options,
               std::string limiter_key);

  // One V7 API call: takes a limiter token, sends `method` to
  // {base}{path}?{query} with the API headers and `body` (none when empty),
  // and returns the response whatever its status (transport errors only).
  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> SendApi(std::string method,
                                                                     std::string path,
                                                                     std::string query,
                                                                     std::string body);
  // SendApi, with non-2xx statuses mapped to errors (see the class comment).
  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> CallApi(std::string method,
                                                                     std::string path,
                                                                     std::string query,
                                                                     std::string body);
  // CallApi, then parses the body as JSON (INTERNAL when it is not).
  boost::asio::awaitable<absl::StatusOr<boost::json::value>> CallJson(std::string method,
                                                                      std::string path,
                                                                      std::string query,
                                                                      std::string body);
  // /api/v2/teams/{team}{suffix}.
  boost::asio::awaitable<absl::StatusOr<std::string>> V2Path(std::string suffix);
  // E10, cached: annotation type name -> id (ids of 0 are dropped).
  boost::asio::awaitable<absl::StatusOr<absl::flat_hash_map<std::string, int64_t>>>
  AnnotationTypeIds();

  http::HttpClient* http_;
  http::TokenBucketRateLimiter* limiter_;
  Options options_;
  // SHA-256 hex of the API key: the limiter's bucket key.
  std::string limiter_key_;

  absl::Mutex mu_;
  std::optional<std::string> team_slug_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::flat_hash_map<std::string, int64_t>> annotation_type_ids_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_
