// DarwinClient: typed V7 Darwin REST endpoints over the HttpClient port
// (spec: darwin-api.md §1-§6; E-numbers refer to its endpoint catalogue).
//
// Every call:
//   - goes through the rate limiter (one token per attempt of a V7 API call;
//     signed upload/download URLs are not V7 API calls and take no token);
//   - carries `Authorization: ApiKey <key>` to V7 API URLs only (never to
//     signed URLs);
//   - is one step of the retry layer below ("Retries");
//   - maps failures to absl::Status: 401 → UNAUTHENTICATED, 403 →
//     PERMISSION_DENIED, 404 → NOT_FOUND, 422 "has already been taken" /
//     "already exists" → ALREADY_EXISTS, other 422/400 → INVALID_ARGUMENT,
//     413 → RESOURCE_EXHAUSTED, 429/5xx (after retries) → UNAVAILABLE;
//     malformed JSON (after retries) → INTERNAL. Messages name the method and
//     the endpoint path (never the key, never query values).
//
// Retries. This is the one retry layer of V7 calls: the HttpClient given
// must not retry (labelport-server gives it the rate-limited, metered
// transport). Only here can a 200 whose JSON does not parse be seen, and a
// create be looked up before it is sent again. Each public call is one step:
// attempts of at most Options::request_timeout each, separated by the
// jittered exponential backoff of Options::retry or the answer's
// Retry-After, until one succeeds or fails for good, Options::retry
// .max_attempts are spent, or the next wait would end after the step's
// deadline (now + Options::step_timeout). After the last attempt its error
// is returned. A retryable failure is: a transport error (UNAVAILABLE:
// refused, reset, dropped, truncated answer; DEADLINE_EXCEEDED), HTTP 429
// (not 429 INSUFFICIENT_REMAINING_STORAGE), 500, 502, 503, 504, or a
// malformed body (a 2xx whose body is not JSON, or is empty where an answer
// is read; an export download that is shorter than its Content-Length or is
// not a zip). Whether such a failure is retried depends on the request's
// idempotency class:
//
//   Safe to repeat as it is (retried on every retryable failure):
//     * GETs: E1 token info, E4 datasets, E10 annotation types, E11 classes,
//       E16 properties, E21 items, E24 sign, E39 exports, E41 workflows;
//     * the signed upload PUT (E25; a new body source per attempt) and the
//       export download (E40; the file is rewritten per attempt);
//     * PUTs that set a whole state: E13 class datasets (the full
//       membership), E7 archive; DELETEs: E32 items, E44 workflow, export;
//       E43 unlink (PATCH): a repeat of done work changes nothing;
//     * E26 confirm: confirming a confirmed upload is harmless;
//     * E35 import: it overwrites with deterministic annotation ids, so a
//       repeat replaces what a lost attempt stored (a split import restarts
//       from its first, overwriting part);
//     * E23/E28 registration: V7 keys items by (dataset, path, name), so a
//       repeat cannot duplicate an item; it answers the items a lost
//       attempt registered as blocked ALREADY_EXISTS with their ids
//       (DarwinBackend re-reads those items, see darwin_backend.h).
//
//   Not safe to repeat as it is: a lost answer (dropped connection, 5xx,
//   cut or malformed body) may hide work V7 did, and sending it again would
//   create a second object or fail with "already taken". Each is made safe
//   by looking up before re-creating: every attempt after the first begins
//   with a lookup, and returns what a lost attempt created:
//     * E5 dataset create: GetOrCreateDataset lists datasets first, always;
//     * E12 class create: lists the team's classes (name and main type);
//     * E17 property create: lists the class's properties (name);
//     * E18 property values: a PUT that appends, so a repeat would add the
//       values twice: re-reads the property and sends only those missing;
//     * E38 export create: lists the dataset's exports (name).
//
//   Never retried: CheckAccess (a readiness probe answers at once).
//
// Retry events (one per retry and per give-up) go to
// Options::retry_hooks.on_event, named by the step's main request.
// Thread-safety: calls may run concurrently; cached values (team slug,
// annotation types) are guarded.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
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
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/backend/darwin/darwin_types.h"
#include "service/http/http_client.h"
#include "service/http/retry_loop.h"
#include "service/http/retry_policy.h"
#include "service/http/token_bucket_rate_limiter.h"

namespace labelport::backend::darwin {

class DarwinClient {
 public:
  struct Options {
    // V7 base URL without trailing "/" (trailing slashes are stripped).
    std::string base_url = "https://darwin.v7labs.com";
    // The API key. Never logged, never in errors.
    std::string api_key;
    // Bound of one attempt (connect to last byte).
    absl::Duration request_timeout = absl::Seconds(60);
    // Attempts and backoff of every step (see "Retries").
    http::RetryPolicy retry = DefaultRetryPolicy();
    // Bound of one step: all its attempts and the waits between them.
    absl::Duration step_timeout = absl::Minutes(5);
    // Retry events (metrics, logs); time, sleep and randomness for tests.
    http::RetryLoop::Hooks retry_hooks = {};
  };

  // The V7 default: 10 attempts, backoff 250 ms doubling up to 8 s, half of
  // it jittered, so a step gives up after at most ~40 s of waiting (unless
  // Retry-After asks for more). With 30% of V7's answers failing, one call
  // still fails 10 times in a row only once in ~170,000 calls.
  static http::RetryPolicy DefaultRetryPolicy();

  // `http` and `limiter` must outlive the client; `http` must not retry (see
  // "Retries"). `limiter` may be null when the transport below rate-limits
  // every attempt (RateLimitedHttpClient, as labelport-server wires it).
  // INVALID_ARGUMENT for an empty key, a malformed base URL, a non-positive
  // timeout or an invalid retry policy.
  static absl::StatusOr<std::unique_ptr<DarwinClient>> Create(http::HttpClient* http,
                                                              http::TokenBucketRateLimiter* limiter,
                                                              Options options);

  // E1: the key's team slug (cached after the first success).
  boost::asio::awaitable<absl::StatusOr<std::string>> TeamSlug();

  // E1, never cached and never retried: OK when V7 answers and accepts the
  // key (readiness). UNAUTHENTICATED / PERMISSION_DENIED for a refused key,
  // UNAVAILABLE or DEADLINE_EXCEEDED when V7 cannot be reached.
  boost::asio::awaitable<absl::Status> CheckAccess();

  // E4: the team's datasets (non-archived).
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinDataset>>> ListDatasets();
  // E4 then E5 when absent: the dataset with exactly this slug. Every
  // attempt lists first, so a create whose answer was lost is found (a
  // concurrent create that wins makes this re-list and return it).
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
  // E24, E25, E26: signs, PUTs the bytes and confirms, each its own step. A
  // confirm that V7 refuses with INVALID_ARGUMENT (422: it has no bytes for
  // the upload, so the PUT's 2xx was not the storage's) sends the bytes
  // again, at most Options::retry.max_attempts times in all.
  boost::asio::awaitable<absl::Status> Upload(std::string upload_id,
                                              std::function<http::BodyChunkSource()> body_factory,
                                              int64_t size_bytes);
  // E28: registers external-storage items in one call (results in order).
  boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> RegisterExisting(
      std::string dataset_slug, std::string storage_slug, std::vector<ItemRegistration> items);

  // E21, all pages: the dataset's items, optionally only `item_ids`
  // (sent in chunks that keep URLs short).
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinItem>>> ListItems(
      int64_t dataset_id, std::vector<std::string> item_ids);
  // The same, page by page: `on_page` receives each page's items as it
  // arrives (at most one page in memory); an error it returns ends the
  // listing and is returned.
  using ItemPageSink = std::function<boost::asio::awaitable<absl::Status>(std::vector<DarwinItem>)>;
  boost::asio::awaitable<absl::Status> ListItemPages(int64_t dataset_id,
                                                     std::vector<std::string> item_ids,
                                                     ItemPageSink on_page);

  // E11: every class of the team.
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinClass>>> ListAnnotationClasses();
  // E10 (cached) then E12: creates a class with main type `types[0]` and
  // sub-types `types[1..]`, attached to `dataset_id`. ALREADY_EXISTS when V7
  // has such a class already; after a lost answer, the class the lost
  // attempt created (which may then lack `dataset_id`: see dataset_ids).
  // `metadata` is sent as the class's metadata ({"_color": "auto"} when
  // empty; a skeleton class needs its `skeleton`).
  boost::asio::awaitable<absl::StatusOr<DarwinClass>> CreateAnnotationClass(
      int64_t dataset_id, std::string name, std::vector<std::string> types,
      boost::json::object metadata = {});
  // E13: adds `dataset_id` to the class's datasets (read-modify-write of the
  // membership listed in `cls`).
  boost::asio::awaitable<absl::Status> AddClassToDataset(const DarwinClass& cls,
                                                         int64_t dataset_id);

  // E16: properties, optionally of one class, with values.
  boost::asio::awaitable<absl::StatusOr<std::vector<DarwinProperty>>> ListProperties(
      std::optional<int64_t> annotation_class_id);
  // E17. After a lost answer, the property (same name, class or item
  // level) the lost attempt created, as V7 lists it.
  boost::asio::awaitable<absl::StatusOr<DarwinProperty>> CreateProperty(PropertyDefinition def);
  // E18: appends those of `values` that `property` lacks (V7 appends what
  // it is sent); retries first re-read the property (E16).
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
  // used gives ALREADY_EXISTS; after a lost answer, a listed export of that
  // name is taken as the one the lost attempt created.
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
  // Authorization, no rate-limit token. The step's deadline (all attempts)
  // is now + `timeout`. Errors name the URL without its query (signature):
  // non-2xx → NOT_FOUND (404, 410) or UNAVAILABLE (others); fewer bytes than
  // the response's Content-Length, or bytes that do not begin like a zip →
  // DATA_LOSS; a file that cannot be written → INTERNAL; transport errors
  // keep their code. The file is removed on any error.
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
  // The answer of one V7 API attempt; `json` is its parsed body when the
  // call expects JSON.
  struct ApiAnswer {
    http::HttpResponse response;
    boost::json::value json;
  };
  // What a 2xx answer's body must be: JSON, or (kOptionalJson: calls whose
  // answer is not read) empty or JSON.
  enum class Expect { kOptionalJson, kJson };
  // The request's idempotency class (see "Retries"): kSafe requests are
  // marked idempotent for the transport; kLookupFirst ones (creates) are
  // not, and are repeated only by steps that look up first.
  enum class Repeat { kSafe, kLookupFirst };

  DarwinClient(http::HttpClient* http, http::TokenBucketRateLimiter* limiter, Options options,
               std::string limiter_key);

  // One attempt of a V7 API call, never repeated here: takes a limiter
  // token, sends `method` to {base}{path}?{query} with the API headers and
  // `body` (none when empty) by `deadline` (at most now + request_timeout),
  // and judges the answer: transport errors, non-2xx statuses and a body
  // that is not what `expect` says are errors, retryable as "Retries" says
  // for a request that is safe to repeat.
  boost::asio::awaitable<http::Attempted<ApiAnswer>> TryApi(std::string method, std::string path,
                                                            std::string query, std::string body,
                                                            Expect expect, Repeat repeat,
                                                            absl::Time deadline);
  // A request that is safe to repeat, as one step of TryApi attempts.
  boost::asio::awaitable<absl::StatusOr<ApiAnswer>> CallApi(std::string method, std::string path,
                                                            std::string query, std::string body,
                                                            Expect expect = Expect::kOptionalJson);
  // CallApi expecting JSON; the parsed body.
  boost::asio::awaitable<absl::StatusOr<boost::json::value>> CallJson(std::string method,
                                                                      std::string path,
                                                                      std::string query,
                                                                      std::string body);
  // Runs `attempt(n, attempt_deadline)` as one step of the retry layer,
  // bounded by now + `step_timeout`; `method` and the redacted `url` name it
  // in retry events.
  template <typename T, typename AttemptFn>
  boost::asio::awaitable<absl::StatusOr<T>> Step(std::string method, std::string url,
                                                 absl::Duration step_timeout, AttemptFn attempt);
  // One attempt of a listing (GET, JSON), parsed; for lookups inside steps.
  boost::asio::awaitable<http::Attempted<std::vector<DarwinDataset>>> TryListDatasets(
      absl::Time deadline);
  boost::asio::awaitable<http::Attempted<std::vector<DarwinClass>>> TryListClasses(
      absl::Time deadline);
  boost::asio::awaitable<http::Attempted<std::vector<DarwinProperty>>> TryListProperties(
      std::optional<int64_t> annotation_class_id, absl::Time deadline);
  boost::asio::awaitable<http::Attempted<std::vector<DarwinExport>>> TryListExports(
      std::string dataset_slug, absl::Time deadline);
  // {base}{path}: how retry events name a V7 API call.
  std::string ApiUrl(absl::string_view path) const;
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
  http::RetryLoop loop_;

  absl::Mutex mu_;
  std::optional<std::string> team_slug_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::flat_hash_map<std::string, int64_t>> annotation_type_ids_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_DARWIN_CLIENT_H_
