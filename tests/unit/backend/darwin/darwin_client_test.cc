#include "service/backend/darwin/darwin_client.h"

#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "tests/unit/backend/darwin/darwin_client_fixture.h"
#include "tests/unit/backend/darwin/fake_http_client.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/common/scratch_dir.h"
#include "tests/unit/http/body_factories.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
using http::testing::ChunkedBody;
using http::testing::FakeHttpClient;
using http::testing::RecordedRequest;
using ::labelport::testing::RunSync;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kKey;
using testing::kTeamInfo;
using ::testing::Not;

constexpr char kBase[] = "https://v7.example";

json::value Json(absl::string_view text) {
  return json::parse(json::string_view(text.data(), text.size()));
}

// One attempt per call: these tests check requests and how one answer maps
// to a result; darwin_client_retry_test.cc checks the retries.
DarwinClient::Options ClientOptions(std::string base_url, std::string api_key) {
  DarwinClient::Options options;
  options.base_url = std::move(base_url);
  options.api_key = std::move(api_key);
  options.retry.max_attempts = 1;
  return options;
}

ItemRegistration Reg(std::string name, std::string path, std::string file_name, std::string type,
                     std::string storage_key) {
  ItemRegistration item;
  item.name = std::move(name);
  item.path = std::move(path);
  item.file_name = std::move(file_name);
  item.type = std::move(type);
  item.storage_key = std::move(storage_key);
  return item;
}

class DarwinClientTest : public testing::DarwinClientFixture {
 protected:
  void SetUp() override { Build(ClientOptions(std::string(kBase) + "/", kKey)); }

  const RecordedRequest& Last() const { return http_.requests().back(); }
  int64_t Acquired() const { return limiter_->stats().acquired; }

  // Checks the headers of a V7 API request.
  static void ExpectApiHeaders(const RecordedRequest& r) {
    EXPECT_EQ(r.Header("Authorization"), absl::StrCat("ApiKey ", kKey)) << r.url;
    EXPECT_EQ(r.Header("Content-Type"), "application/json") << r.url;
    EXPECT_EQ(r.Header("Accept"), "application/json") << r.url;
    EXPECT_LT(r.deadline, absl::InfiniteFuture());
    EXPECT_GT(r.deadline, absl::Now());
  }

  // Checks that `r` is a V7 API request (ExpectApiHeaders) of `method` to
  // `path` beneath kBase, repeatable or not as `idempotent`.
  static void ExpectApiCall(const RecordedRequest& r, absl::string_view method,
                            absl::string_view path, bool idempotent) {
    EXPECT_EQ(r.method, method);
    EXPECT_EQ(r.url, absl::StrCat(kBase, path));
    EXPECT_EQ(r.idempotent, idempotent) << r.url;
    ExpectApiHeaders(r);
  }
};

// ---- Create, URLs

TEST(DarwinClientCreateTest, ValidatesOptionsAndStripsTrailingSlashes) {
  FakeHttpClient http;
  auto limiter = http::TokenBucketRateLimiter::Create({});
  ASSERT_TRUE(limiter.ok());
  EXPECT_EQ(DarwinClient::Create(&http, limiter->get(), ClientOptions(kBase, "")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DarwinClient::Create(&http, limiter->get(), ClientOptions("ftp://x", kKey)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DarwinClient::Create(&http, limiter->get(), ClientOptions("https://", kKey)).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DarwinClient::Create(nullptr, limiter->get(), ClientOptions(kBase, kKey)).status().code(),
      absl::StatusCode::kInvalidArgument);
  auto bad_key =
      DarwinClient::Create(&http, limiter->get(), ClientOptions(kBase, "abc\r\nX-Evil: 1"));
  EXPECT_EQ(bad_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_key.status().message(), Not(HasSubstr("abc")));

  auto client =
      DarwinClient::Create(&http, limiter->get(), ClientOptions("http://127.0.0.1:8080//", kKey));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->options().base_url, "http://127.0.0.1:8080");
  EXPECT_EQ((*client)->EditorUrl(611387), "http://127.0.0.1:8080/datasets/611387");
}

// ---- E1

TEST_F(DarwinClientTest, TeamSlugCallsTokenInfoOnceWithApiHeaders) {
  http_.Reply(200, R"({"selected_team": {"id": 1, "name": "T", "slug": "emu-team"},
                       "user": {"id": 1}})");
  absl::StatusOr<std::string> slug = RunSync(client_->TeamSlug());
  ASSERT_TRUE(slug.ok()) << slug.status();
  EXPECT_EQ(*slug, "emu-team");
  slug = RunSync(client_->TeamSlug());
  ASSERT_TRUE(slug.ok());
  ASSERT_EQ(http_.requests().size(), 1u);
  const RecordedRequest& r = Last();
  ExpectApiCall(r, "GET", "/api/users/token_info", /*idempotent=*/true);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(Acquired(), 1);
}

TEST_F(DarwinClientTest, TeamSlugMissingFieldIsInternalNamingIt) {
  http_.Reply(200, R"({"selected_team": {"id": 1}})");
  absl::StatusOr<std::string> slug = RunSync(client_->TeamSlug());
  EXPECT_EQ(slug.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(slug.status().message(),
            "V7 GET /api/users/token_info: response field 'selected_team.slug' is missing or not a "
            "string");
}

// ---- E4 / E5

TEST_F(DarwinClientTest, ListDatasetsParsesAndSkipsArchived) {
  http_.Reply(200, R"([
    {"id": 13371337, "name": "Test Dataset", "slug": "test_dataset", "progress": 0.0,
     "num_images": 0, "unknown": {"x": 1}},
    {"id": 7, "name": "old", "slug": "old", "archived": true},
    {"id": 8, "slug": "no-name"}])");
  auto datasets = RunSync(client_->ListDatasets());
  ASSERT_TRUE(datasets.ok()) << datasets.status();
  ASSERT_EQ(datasets->size(), 2u);
  EXPECT_EQ((*datasets)[0].id, 13371337);
  EXPECT_EQ((*datasets)[0].slug, "test_dataset");
  EXPECT_EQ((*datasets)[0].name, "Test Dataset");
  EXPECT_EQ((*datasets)[1].name, "no-name");
  EXPECT_EQ(Last().url, "https://v7.example/api/datasets");
  ExpectApiHeaders(Last());
}

TEST_F(DarwinClientTest, ListDatasetsRejectsStringIdsAndMissingSlug) {
  http_.Reply(200, R"([{"id": 1, "slug": "a"}, {"id": "2", "slug": "b"}])");
  auto datasets = RunSync(client_->ListDatasets());
  EXPECT_EQ(datasets.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(datasets.status().message(),
            "V7 GET /api/datasets: response field '[1].id' is missing or not an integer");
  http_.Reply(200, R"([{"id": 1}])");
  datasets = RunSync(client_->ListDatasets());
  EXPECT_EQ(datasets.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(datasets.status().message(), HasSubstr("'[0].slug'"));
  http_.Reply(200, R"({"datasets": []})");
  EXPECT_EQ(RunSync(client_->ListDatasets()).status().code(), absl::StatusCode::kInternal);
}

TEST_F(DarwinClientTest, GetOrCreateDatasetReturnsExistingWithoutCreating) {
  http_.Reply(200, R"([{"id": 1, "slug": "Demo"}, {"id": 2, "slug": "demo"}])");
  auto ds = RunSync(client_->GetOrCreateDataset("demo"));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->id, 2);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(DarwinClientTest, GetOrCreateDatasetCreatesWithSlugAsName) {
  http_.Reply(200, R"([{"id": 1, "slug": "other"}])");
  http_.Reply(200, R"({"id": 42, "name": "demo", "slug": "demo"})");
  auto ds = RunSync(client_->GetOrCreateDataset("demo"));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->id, 42);
  ASSERT_EQ(http_.requests().size(), 2u);
  const RecordedRequest& r = http_.requests()[1];
  ExpectApiCall(r, "POST", "/api/datasets", /*idempotent=*/false);
  EXPECT_EQ(Json(r.body), Json(R"({"name": "demo"})"));
  EXPECT_EQ(Acquired(), 2);
}

TEST_F(DarwinClientTest, GetOrCreateDatasetRelistsWhenCreateLosesARace) {
  http_.Reply(200, "[]");
  http_.Reply(422, R"({"errors": {"name": ["has already been taken"]}})",
              {{"Content-Type", "application/json"}});
  http_.Reply(200, R"([{"id": 9, "slug": "demo"}])");
  auto ds = RunSync(client_->GetOrCreateDataset("demo"));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->id, 9);
  EXPECT_EQ(http_.requests().size(), 3u);
}

TEST_F(DarwinClientTest, GetOrCreateDatasetKeepsAlreadyExistsWhenRelistMisses) {
  http_.Reply(200, "[]");
  http_.Reply(422, R"({"errors": {"name": ["has already been taken"]}})");
  http_.Reply(200, "[]");
  auto ds = RunSync(client_->GetOrCreateDataset("demo"));
  EXPECT_EQ(ds.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ds.status().message(), "V7 POST /api/datasets: 422 name: has already been taken");
}

// ---- E23 / E24 / E25 / E26 / E28

TEST_F(DarwinClientTest, RegisterUploadSendsSdkBodyAndAnswersInRequestOrder) {
  PrimeTeam();
  http_.Reply(200, R"({
    "items": [
      {"id": "item-b", "name": "b.mp4", "path": "/clips",
       "slots": [{"type": "video", "file_name": "b.mp4", "slot_name": "0", "upload_id": "up-b"}]},
      {"id": "item-a", "name": "a.jpg", "path": "/",
       "slots": [{"type": "image", "file_name": "a.jpg", "slot_name": "0", "upload_id": "up-a"}]}],
    "blocked_items": [
      {"id": "item-c", "name": "c.jpg", "path": "/",
       "slots": [{"type": "image", "file_name": "c.jpg", "slot_name": "0",
                  "reason": "ALREADY_EXISTS"}]}]})");
  std::vector<ItemRegistration> items = {Reg("a.jpg", "", "a.jpg", "image", ""),
                                         Reg("b.mp4", "/clips/", "b.mp4", "video", ""),
                                         Reg("c.jpg", "/", "c.jpg", "image", "")};
  auto registered = RunSync(client_->RegisterUpload("my-dataset", items));
  ASSERT_TRUE(registered.ok()) << registered.status();
  const RecordedRequest& r = Last();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://v7.example/api/v2/teams/emu-team/items/register_upload");
  ExpectApiHeaders(r);
  EXPECT_EQ(Json(r.body), Json(R"({
    "items": [
      {"slots": [{"file_name": "a.jpg", "slot_name": "0", "type": "image", "fps": 0,
                  "as_frames": false, "extract_views": false}], "name": "a.jpg", "path": "/"},
      {"slots": [{"file_name": "b.mp4", "slot_name": "0", "type": "video", "fps": 0,
                  "as_frames": false, "extract_views": false}], "name": "b.mp4", "path": "/clips"},
      {"slots": [{"file_name": "c.jpg", "slot_name": "0", "type": "image", "fps": 0,
                  "as_frames": false, "extract_views": false}], "name": "c.jpg", "path": "/"}],
    "options": {"handle_as_slices": false},
    "dataset_slug": "my-dataset"})"));
  ASSERT_EQ(registered->size(), 3u);
  EXPECT_EQ((*registered)[0].item_id, "item-a");
  EXPECT_EQ((*registered)[0].upload_id, "up-a");
  EXPECT_EQ((*registered)[0].path, "/");
  EXPECT_EQ((*registered)[0].blocked_reason, "");
  EXPECT_EQ((*registered)[1].item_id, "item-b");
  EXPECT_EQ((*registered)[1].upload_id, "up-b");
  EXPECT_EQ((*registered)[1].path, "/clips");
  EXPECT_EQ((*registered)[2].item_id, "item-c");
  EXPECT_EQ((*registered)[2].upload_id, "");
  EXPECT_EQ((*registered)[2].blocked_reason, "ALREADY_EXISTS");
}

TEST_F(DarwinClientTest, RegisterUploadMissingUploadIdOrEntryIsInternal) {
  PrimeTeam();
  http_.Reply(200, R"({"items": [{"id": "i", "name": "a.jpg", "path": "/",
                                  "slots": [{"type": "image"}]}], "blocked_items": []})");
  auto registered = RunSync(client_->RegisterUpload("ds", {Reg("a.jpg", "/", "", "image", "")}));
  EXPECT_EQ(registered.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(registered.status().message(),
            "V7 POST /api/v2/teams/emu-team/items/register_upload: response field "
            "'items[0].slots[0].upload_id' is missing or not a string");
  http_.Reply(200, R"({"items": [], "blocked_items": []})");
  registered = RunSync(client_->RegisterUpload("ds", {Reg("a.jpg", "/", "", "image", "")}));
  EXPECT_EQ(registered.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(registered.status().message(), HasSubstr("no entry for item '/a.jpg'"));
}

TEST_F(DarwinClientTest, SignAndConfirmUpload) {
  PrimeTeam();
  http_.Reply(200, R"({"upload_url": "https://s3.example/bucket/key?X-Amz-Signature=sig"})");
  auto url = RunSync(client_->SignUpload("123e4567-e89b"));
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(*url, "https://s3.example/bucket/key?X-Amz-Signature=sig");
  EXPECT_EQ(Last().method, "GET");
  EXPECT_EQ(Last().url,
            "https://v7.example/api/v2/teams/emu-team/items/uploads/123e4567-e89b/sign");
  ExpectApiHeaders(Last());

  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->ConfirmUpload("123e4567-e89b")).ok());
  EXPECT_EQ(Last().method, "POST");
  EXPECT_EQ(Last().url,
            "https://v7.example/api/v2/teams/emu-team/items/uploads/123e4567-e89b/confirm");
  EXPECT_EQ(Last().body, "{}");
  ExpectApiHeaders(Last());

  http_.Reply(200, R"({"errors": {"upload": ["expired"]}})");
  EXPECT_EQ(RunSync(client_->SignUpload("u")).status().code(), absl::StatusCode::kInternal);
  http_.Reply(200, R"({"upload_url": "/relative"})");
  EXPECT_EQ(RunSync(client_->SignUpload("u")).status().code(), absl::StatusCode::kInternal);
}

TEST_F(DarwinClientTest, PutSignedUploadHasNoAuthNoContentTypeAndNoLimiterToken) {
  http_.Reply(200, "");
  absl::Status s = RunSync(client_->PutSignedUpload("https://s3.example/b/k?X-Amz-Signature=sig",
                                                    ChunkedBody({"hello ", "world"}), 11));
  ASSERT_TRUE(s.ok()) << s;
  const RecordedRequest& r = Last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "https://s3.example/b/k?X-Amz-Signature=sig");
  EXPECT_FALSE(r.Header("Authorization").has_value());
  EXPECT_FALSE(r.Header("Content-Type").has_value());
  EXPECT_TRUE(r.streamed);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.body_size, 11);
  EXPECT_TRUE(r.idempotent);
  EXPECT_LT(r.deadline, absl::InfiniteFuture());
  EXPECT_EQ(Acquired(), 0);

  http_.Reply(201, "");
  EXPECT_TRUE(
      RunSync(client_->PutSignedUpload("https://s3.example/b/k", ChunkedBody({"x"}), 1)).ok());

  http_.Reply(403, "<Error><Code>SignatureDoesNotMatch</Code><StringToSign>s</StringToSign>",
              {{"Content-Type", "application/xml"}});
  s = RunSync(client_->PutSignedUpload("https://s3.example/b/k?X-Amz-Signature=sig",
                                       ChunkedBody({"x"}), 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "V7 PUT /b/k: 403");
  EXPECT_EQ(Acquired(), 0);
}

TEST_F(DarwinClientTest, RegisterExistingAsksForTheNativeFrameRateOfVideos) {
  PrimeTeam();
  http_.Reply(200, R"({"items": [{"id": "1", "name": "c.mp4"}], "blocked_items": []})");
  auto registered = RunSync(client_->RegisterExisting(
      "my-dataset", "my-storage", {Reg("c.mp4", "/", "c.mp4", "video", "dir/c.mp4")}));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(Json(Last().body).at("items").at(0).at("slots").at(0), Json(R"(
      {"as_frames": false, "slot_name": "0", "type": "video", "storage_key": "dir/c.mp4",
       "file_name": "c.mp4", "fps": 0})"));
}

TEST_F(DarwinClientTest, RegisterExistingSendsStorageKeys) {
  PrimeTeam();
  http_.Reply(200, R"({"items": [{"id": "1", "name": "a.jpg"}],
                       "blocked_items": [{"name": "b.jpg", "slots": [{"reason": "FILE_NOT_FOUND"}]}]})");
  auto registered =
      RunSync(client_->RegisterExisting("my-dataset", "my-storage",
                                        {Reg("a.jpg", "/", "a.jpg", "image", "dir/a.jpg"),
                                         Reg("b.jpg", "/x", "b.jpg", "image", "dir/b.jpg")}));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(Last().url, "https://v7.example/api/v2/teams/emu-team/items/register_existing");
  EXPECT_EQ(Json(Last().body), Json(R"({
    "items": [
      {"path": "/", "name": "a.jpg",
       "slots": [{"as_frames": false, "slot_name": "0", "type": "image",
                  "storage_key": "dir/a.jpg", "file_name": "a.jpg"}]},
      {"path": "/x", "name": "b.jpg",
       "slots": [{"as_frames": false, "slot_name": "0", "type": "image",
                  "storage_key": "dir/b.jpg", "file_name": "b.jpg"}]}],
    "dataset_slug": "my-dataset", "storage_slug": "my-storage"})"));
  ASSERT_EQ(registered->size(), 2u);
  EXPECT_EQ((*registered)[0].item_id, "1");
  EXPECT_EQ((*registered)[1].item_id, "");
  EXPECT_EQ((*registered)[1].blocked_reason, "FILE_NOT_FOUND");
  EXPECT_EQ((*registered)[1].path, "/x");
}

// ---- E21

constexpr char kItemPage1[] = R"({
  "items": [
    {"id": "018c6826-766c", "name": "segment_1.mp4", "status": "new", "path": "/",
     "processing_status": "complete", "uploads": [], "dataset_id": 611387,
     "slots": [{"id": "s1", "type": "video", "slot_name": "0", "file_name": "segment_1.mp4",
                "metadata": {"height": 1920, "width": 1080, "native_fps": 30},
                "fps": 0.58, "total_sections": 7, "sectionless": false}]},
    {"id": "img-1", "name": "a.jpg", "status": "annotate", "path": "/dir/",
     "slots": [{"type": "image", "slot_name": "0", "file_name": "a.jpg",
                "width": 640, "height": 480, "metadata": {"width": 1, "height": 2}}]}],
  "page": {"count": 2, "next": "img-1", "previous": null}})";
constexpr char kItemPage2[] = R"({
  "items": [
    {"id": "img-2", "name": "b.jpg", "status": "processing", "path": "/",
     "processing_status": "processing", "slots": [],
     "uploads": [{"type": "image", "file_name": "b.jpg", "processing_status": "processing",
                  "slot_name": "0", "upload_id": "up-2", "as_frames": false}]}],
  "page": {"count": 1, "next": null, "previous": "img-1"}})";

TEST_F(DarwinClientTest, ListItemsFollowsCursorsAndParsesSlots) {
  PrimeTeam();
  http_.Reply(200, kItemPage1);
  http_.Reply(200, kItemPage2);
  auto items = RunSync(client_->ListItems(611387, {}));
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(http_.requests().size(), 3u);
  EXPECT_EQ(http_.requests()[1].url,
            "https://v7.example/api/v2/teams/emu-team/items?dataset_ids[]=611387&page[size]=500");
  EXPECT_EQ(http_.requests()[2].url,
            "https://v7.example/api/v2/teams/emu-team/items?dataset_ids[]=611387&page[size]=500"
            "&page[from]=img-1");
  ExpectApiHeaders(http_.requests()[2]);
  EXPECT_EQ(Acquired(), 3);

  ASSERT_EQ(items->size(), 3u);
  const DarwinItem& video = (*items)[0];
  EXPECT_EQ(video.id, "018c6826-766c");
  EXPECT_EQ(video.status, "new");
  EXPECT_EQ(video.processing_status, "complete");
  ASSERT_EQ(video.slots.size(), 1u);
  EXPECT_EQ(video.slots[0].type, "video");
  EXPECT_EQ(video.slots[0].width, 1080);
  EXPECT_EQ(video.slots[0].height, 1920);
  EXPECT_DOUBLE_EQ(video.slots[0].fps, 0.58);
  EXPECT_EQ(video.slots[0].frame_count, 7);
  EXPECT_TRUE(video.pending_upload_ids.empty());
  const DarwinItem& image = (*items)[1];
  EXPECT_EQ(image.path, "/dir");
  EXPECT_EQ(image.slots[0].width, 640);
  EXPECT_EQ(image.slots[0].height, 480);
  EXPECT_EQ(image.slots[0].file_name, "a.jpg");
  const DarwinItem& pending = (*items)[2];
  EXPECT_EQ(pending.status, "processing");
  EXPECT_TRUE(pending.slots.empty());
  EXPECT_THAT(pending.pending_upload_ids, ElementsAre("up-2"));
}

TEST_F(DarwinClientTest, ListItemsChunksItemIdsAndKeepsUrlsShort) {
  PrimeTeam();
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) ids.push_back(absl::StrCat("id", i));
  ids.push_back("id0");  // a duplicate is asked for once
  for (int i = 0; i < 3; ++i) http_.Reply(200, R"({"items": [], "page": {"next": null}})");
  auto items = RunSync(client_->ListItems(5, ids));
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(http_.requests().size(), 4u);
  std::vector<std::string> sent;
  for (size_t r = 1; r < http_.requests().size(); ++r) {
    const std::string& url = http_.requests()[r].url;
    EXPECT_LE(url.size(), 2000u);
    EXPECT_TRUE(absl::StartsWith(
        url, "https://v7.example/api/v2/teams/emu-team/items?dataset_ids[]=5&page[size]=500&"))
        << url;
    int in_chunk = 0;
    for (absl::string_view pair : absl::StrSplit(url.substr(url.find('?') + 1), '&')) {
      if (absl::ConsumePrefix(&pair, "item_ids[]=")) {
        sent.emplace_back(pair);
        ++in_chunk;
      }
    }
    EXPECT_LE(in_chunk, 100);
  }
  ASSERT_EQ(sent.size(), 250u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(sent[i], absl::StrCat("id", i));
}

TEST_F(DarwinClientTest, ListItemsChunksLongIdsByUrlLengthAndEncodesThem) {
  PrimeTeam();
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(absl::StrCat("018c6826-766c-d596-44b3-46159c7c23", i));
  ids.push_back("a b&c/d");
  int replies = 0;
  for (int i = 0; i < 10; ++i) {
    http_.Reply(200, R"({"items": [], "page": {"next": null}})");
    ++replies;
  }
  auto items = RunSync(client_->ListItems(5, ids));
  ASSERT_TRUE(items.ok()) << items.status();
  size_t chunks = http_.requests().size() - 1;
  EXPECT_GE(chunks, 2u);
  for (size_t r = 1; r < http_.requests().size(); ++r) {
    EXPECT_LE(http_.requests()[r].url.size(), 2000u);
  }
  EXPECT_TRUE(absl::EndsWith(http_.requests().back().url, "&item_ids[]=a%20b%26c%2Fd"))
      << http_.requests().back().url;
}

TEST_F(DarwinClientTest, ListItemsRejectsBadItemsAndRepeatedCursors) {
  PrimeTeam();
  http_.Reply(200,
              R"({"items": [{"id": 12, "name": "a", "status": "new"}], "page": {"next": null}})");
  auto items = RunSync(client_->ListItems(5, {}));
  EXPECT_EQ(items.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(items.status().message(),
            "V7 GET /api/v2/teams/emu-team/items: response field 'items[0].id' is missing or not "
            "a string");
  http_.Reply(200, R"({"items": [], "page": {"next": "c"}})");
  http_.Reply(200, R"({"items": [], "page": {"next": "c"}})");
  items = RunSync(client_->ListItems(5, {}));
  EXPECT_EQ(items.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(items.status().message(), HasSubstr("page.next"));
}

// ---- E10 / E11 / E12 / E13

TEST_F(DarwinClientTest, ListAnnotationClasses) {
  PrimeTeam();
  http_.Reply(200, R"js({"annotation_classes": [
    {"annotation_types": ["tag"], "dataset_id": 215, "datasets": [{"id": 215}, {"id": 265}],
     "id": 345, "metadata": {"_color": "rgba(0,255,0,1.0)"}, "name": " Tag 2"},
    {"annotation_types": ["raster_layer"], "datasets": [], "id": 1,
     "name": "__raster_layer__"}]})js");
  auto classes = RunSync(client_->ListAnnotationClasses());
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_EQ(Last().url,
            "https://v7.example/api/teams/emu-team/annotation_classes?include_tags=true");
  ExpectApiHeaders(Last());
  ASSERT_EQ(classes->size(), 2u);
  EXPECT_EQ((*classes)[0].id, 345);
  EXPECT_EQ((*classes)[0].name, " Tag 2");
  EXPECT_THAT((*classes)[0].annotation_types, ElementsAre("tag"));
  EXPECT_THAT((*classes)[0].dataset_ids, ElementsAre(215, 265));
  EXPECT_EQ((*classes)[1].name, "__raster_layer__");
}

constexpr char kTypes[] = R"([{"id": 0, "name": "bogus"}, {"id": 1, "name": "bounding_box"},
  {"id": 6, "name": "tag"}, {"id": 11, "name": "text"}, {"id": 13, "name": "instance_id"}])";

TEST_F(DarwinClientTest, CreateAnnotationClassFetchesTypesOnceAndPostsSdkBody) {
  http_.Reply(200, kTypes);
  http_.Reply(200, R"({"id": 17, "name": "car", "annotation_types": ["bounding_box", "text"],
                       "datasets": [{"id": 42}]})");
  auto cls =
      RunSync(client_->CreateAnnotationClass(42, "car", {"bounding_box", "text", "instance_id"}));
  ASSERT_TRUE(cls.ok()) << cls.status();
  ASSERT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(http_.requests()[0].method, "GET");
  EXPECT_EQ(http_.requests()[0].url, "https://v7.example/api/annotation_types");
  ExpectApiHeaders(http_.requests()[0]);
  const RecordedRequest& r = http_.requests()[1];
  ExpectApiCall(r, "POST", "/api/annotation_classes", /*idempotent=*/false);
  EXPECT_EQ(Json(r.body), Json(R"({"dataset_id": 42, "name": "car",
    "metadata": {"_color": "auto"}, "annotation_type_ids": [1, 11, 13],
    "datasets": [{"id": 42}]})"));
  EXPECT_EQ(cls->id, 17);
  EXPECT_THAT(cls->dataset_ids, ElementsAre(42));

  // Cached types: the second create is one request.
  http_.Reply(200, R"({"id": 18, "name": "person"})");
  cls = RunSync(client_->CreateAnnotationClass(43, "person", {"tag"}));
  ASSERT_TRUE(cls.ok()) << cls.status();
  EXPECT_EQ(http_.requests().size(), 3u);
  EXPECT_EQ(Json(Last().body), Json(R"({"dataset_id": 43, "name": "person",
    "metadata": {"_color": "auto"}, "annotation_type_ids": [6], "datasets": [{"id": 43}]})"));
  EXPECT_THAT(cls->annotation_types, ElementsAre("tag"));
  EXPECT_THAT(cls->dataset_ids, ElementsAre(43));
  EXPECT_EQ(Acquired(), 3);
}

TEST_F(DarwinClientTest, CreateAnnotationClassRejectsUnknownAndZeroIdTypes) {
  http_.Reply(200, kTypes);
  auto cls = RunSync(client_->CreateAnnotationClass(42, "x", {"bogus"}));
  EXPECT_EQ(cls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cls.status().message(), HasSubstr("'bogus'"));
  cls = RunSync(client_->CreateAnnotationClass(42, "x", {}));
  EXPECT_EQ(cls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(DarwinClientTest, CreateAnnotationClassDuplicateIsAlreadyExists) {
  http_.Reply(200, kTypes);
  http_.Reply(422, R"({"errors": {"name": ["has already been taken"]}})");
  auto cls = RunSync(client_->CreateAnnotationClass(42, "car", {"bounding_box"}));
  EXPECT_EQ(cls.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(cls.status().message(),
            "V7 POST /api/annotation_classes: 422 name: has already been taken");
  http_.Reply(422, R"({"errors": "Annotation class already exists"})");
  cls = RunSync(client_->CreateAnnotationClass(42, "car", {"bounding_box"}));
  EXPECT_EQ(cls.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(DarwinClientTest, AddClassToDatasetAppendsToExistingMembership) {
  DarwinClass cls;
  cls.id = 345;
  cls.name = "car";
  cls.annotation_types = {"bounding_box"};
  cls.dataset_ids = {215, 265};
  http_.Reply(200, R"({"id": 345})");
  ASSERT_TRUE(RunSync(client_->AddClassToDataset(cls, 7)).ok());
  const RecordedRequest& r = Last();
  ExpectApiCall(r, "PUT", "/api/annotation_classes/345", /*idempotent=*/true);
  EXPECT_EQ(Json(r.body),
            Json(R"({"datasets": [{"id": 215}, {"id": 265}, {"id": 7}], "id": 345})"));
  // Already a member: nothing to send.
  ASSERT_TRUE(RunSync(client_->AddClassToDataset(cls, 265)).ok());
  EXPECT_EQ(http_.requests().size(), 1u);
}

// ---- E16 / E17 / E18

TEST_F(DarwinClientTest, ListPropertiesWithAndWithoutClassFilter) {
  PrimeTeam();
  http_.Reply(200, R"js({"properties": [
    {"id": "d736", "name": "color", "type": "single_select", "required": false,
     "slug": "color", "annotation_class_id": 2558, "granularity": "section", "dataset_ids": null,
     "property_values": [{"id": "3e40", "type": "string", "value": "red",
                          "color": "rgba(143,255,0,1.0)"}]}]})js");
  auto props = RunSync(client_->ListProperties(2558));
  ASSERT_TRUE(props.ok()) << props.status();
  EXPECT_EQ(Last().url,
            "https://v7.example/api/v2/teams/emu-team/properties?annotation_class_ids[]=2558"
            "&include_values=true");
  ExpectApiHeaders(Last());
  ASSERT_EQ(props->size(), 1u);
  const DarwinProperty& p = (*props)[0];
  EXPECT_EQ(p.id, "d736");
  EXPECT_EQ(p.type, "single_select");
  EXPECT_EQ(p.granularity, "section");
  EXPECT_EQ(p.annotation_class_id, 2558);
  EXPECT_TRUE(p.dataset_ids.empty());
  ASSERT_EQ(p.values.size(), 1u);
  EXPECT_EQ(p.values[0].id, "3e40");
  EXPECT_EQ(p.values[0].value, "red");

  http_.Reply(200, R"({"properties": [
    {"id": "p2", "name": "iscrowd", "type": "text", "required": false, "granularity": "item",
     "annotation_class_id": null, "dataset_ids": [1, 2], "property_values": []}]})");
  props = RunSync(client_->ListProperties(std::nullopt));
  ASSERT_TRUE(props.ok()) << props.status();
  EXPECT_EQ(Last().url, "https://v7.example/api/v2/teams/emu-team/properties?include_values=true");
  EXPECT_FALSE((*props)[0].annotation_class_id.has_value());
  EXPECT_THAT((*props)[0].dataset_ids, ElementsAre(1, 2));

  http_.Reply(200, R"({"properties": [{"id": 5, "name": "x", "type": "text"}]})");
  props = RunSync(client_->ListProperties(std::nullopt));
  EXPECT_EQ(props.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(props.status().message(), HasSubstr("'properties[0].id'"));
}

// "rgba(r,g,b,1.0)" with each channel in 0..255.
void ExpectRgba(const json::value& color) {
  ASSERT_TRUE(color.is_string());
  std::string s(color.get_string().data(), color.get_string().size());
  ASSERT_TRUE(absl::StartsWith(s, "rgba(") && absl::EndsWith(s, ",1.0)")) << s;
  std::vector<std::string> parts = absl::StrSplit(s.substr(5, s.size() - 10), ',');
  ASSERT_EQ(parts.size(), 3u) << s;
  for (const std::string& part : parts) {
    int v = std::stoi(part);
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 255);
  }
}

PropertyDefinition Definition(std::string name, std::string type, std::string granularity,
                              std::optional<int64_t> class_id, std::vector<int64_t> dataset_ids,
                              std::vector<std::string> values) {
  PropertyDefinition def;
  def.name = std::move(name);
  def.type = std::move(type);
  def.granularity = std::move(granularity);
  def.annotation_class_id = class_id;
  def.dataset_ids = std::move(dataset_ids);
  def.values = std::move(values);
  return def;
}

TEST_F(DarwinClientTest, CreateClassPropertyBody) {
  PrimeTeam();
  http_.Reply(200, R"js({"id": "p1", "name": "color", "type": "single_select",
    "granularity": "section", "required": false, "annotation_class_id": 17, "dataset_ids": null,
    "property_values": [
      {"id": "v1", "type": "string", "value": "red", "color": "rgba(1,2,3,1.0)"},
      {"id": "v2", "type": "string", "value": "blue", "color": "auto"}]})js");
  auto p = RunSync(client_->CreateProperty(
      Definition("color", "single_select", "section", 17, {}, {"red", "blue"})));
  ASSERT_TRUE(p.ok()) << p.status();
  const RecordedRequest& r = Last();
  ExpectApiCall(r, "POST", "/api/v2/teams/emu-team/properties", /*idempotent=*/false);
  json::value body = Json(r.body);
  json::object& o = body.as_object();
  EXPECT_EQ(o.at("required"), json::value(false));
  EXPECT_EQ(o.at("type"), json::value("single_select"));
  EXPECT_EQ(o.at("granularity"), json::value("section"));
  EXPECT_EQ(o.at("name"), json::value("color"));
  EXPECT_EQ(o.at("description"), json::value(""));
  EXPECT_EQ(o.at("annotation_class_id"), json::value(17));
  EXPECT_FALSE(o.contains("dataset_ids"));
  const json::array& values = o.at("property_values").as_array();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].at("type"), json::value("string"));
  EXPECT_EQ(values[0].at("value"), json::value("red"));
  EXPECT_EQ(values[1].at("value"), json::value("blue"));
  ExpectRgba(values[0].at("color"));
  ExpectRgba(values[1].at("color"));
  EXPECT_NE(values[0].at("color"), values[1].at("color"));
  EXPECT_EQ(o.size(), 7u);
  EXPECT_EQ(p->id, "p1");
  ASSERT_EQ(p->values.size(), 2u);
  EXPECT_EQ(p->values[1].id, "v2");

  // Colours are a function of the value alone.
  http_.Reply(200, R"({"id": "p9", "name": "c2", "type": "multi_select",
                       "annotation_class_id": 18, "property_values": []})");
  ASSERT_TRUE(RunSync(client_->CreateProperty(
                          Definition("c2", "multi_select", "annotation", 18, {}, {"red"})))
                  .ok());
  EXPECT_EQ(Json(Last().body).at("property_values").at(0).at("color"), values[0].at("color"));
}

TEST_F(DarwinClientTest, CreateItemPropertyBody) {
  PrimeTeam();
  http_.Reply(200, R"({"id": "p2", "name": "iscrowd", "type": "text", "granularity": "item",
                       "required": false, "annotation_class_id": null, "dataset_ids": [42],
                       "property_values": []})");
  auto p = RunSync(
      client_->CreateProperty(Definition("iscrowd", "text", "item", std::nullopt, {42}, {})));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Json(Last().body), Json(R"({"required": false, "type": "text", "granularity": "item",
    "name": "iscrowd", "description": "", "property_values": [], "dataset_ids": [42]})"));
  EXPECT_THAT(p->dataset_ids, ElementsAre(42));
  EXPECT_FALSE(p->annotation_class_id.has_value());

  // A class property without a class, or an item property with one, is refused locally.
  EXPECT_EQ(
      RunSync(client_->CreateProperty(Definition("x", "text", "section", std::nullopt, {}, {})))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RunSync(client_->CreateProperty(Definition("x", "text", "item", 3, {}, {}))).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(DarwinClientTest, AddPropertyValuesPutsOnlyMissingValues) {
  PrimeTeam();
  DarwinProperty property;
  property.id = "d736";
  property.name = "color";
  property.type = "single_select";
  property.granularity = "section";
  property.annotation_class_id = 17;
  property.values.push_back(DarwinPropertyValue{"v1", "red"});
  http_.Reply(200, R"({"id": "d736", "name": "color", "type": "single_select",
    "granularity": "section", "annotation_class_id": 17,
    "property_values": [{"id": "v1", "value": "red", "type": "string", "color": "auto"},
                        {"id": "v2", "value": "blue", "type": "string", "color": "auto"}]})");
  auto updated = RunSync(client_->AddPropertyValues(property, {"red", "blue", "blue"}));
  ASSERT_TRUE(updated.ok()) << updated.status();
  const RecordedRequest& r = Last();
  // V7 appends what this PUT sends: not repeatable as it is.
  ExpectApiCall(r, "PUT", "/api/v2/teams/emu-team/properties/d736", /*idempotent=*/false);
  json::value body = Json(r.body);
  EXPECT_EQ(body.at("name"), json::value("color"));
  EXPECT_EQ(body.at("type"), json::value("single_select"));
  EXPECT_FALSE(body.as_object().contains("granularity"));
  EXPECT_FALSE(body.as_object().contains("annotation_class_id"));
  const json::array& values = body.at("property_values").as_array();
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].at("value"), json::value("blue"));
  EXPECT_EQ(values[0].at("type"), json::value("string"));
  ExpectRgba(values[0].at("color"));
  ASSERT_EQ(updated->values.size(), 2u);

  // Nothing missing: no request.
  const size_t before = http_.requests().size();
  auto same = RunSync(client_->AddPropertyValues(property, {"red"}));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(http_.requests().size(), before);
  EXPECT_EQ(same->id, "d736");
}

// ---- E35

json::array Annotations(int n, size_t data_bytes) {
  json::array out;
  for (int i = 0; i < n; ++i) {
    json::object a;
    a["annotation_class_id"] = 17;
    a["data"] = json::object{{"tag", json::object()},
                             {"text", json::object{{"text", std::string(data_bytes, 'x')}}}};
    a["context_keys"] = json::object{{"slot_names", json::array{"0"}}};
    a["id"] = absl::StrCat("00000000-0000-0000-0000-00000000000", i);
    out.push_back(std::move(a));
  }
  return out;
}

TEST_F(DarwinClientTest, ImportAnnotationsPostsStringOverwrite) {
  PrimeTeam();
  json::array annotations = Annotations(2, 3);
  http_.Reply(200, "");
  ASSERT_TRUE(RunSync(client_->ImportAnnotations("item-1", annotations, true)).ok());
  const RecordedRequest& r = Last();
  // Overwrite with deterministic ids: repeatable.
  ExpectApiCall(r, "POST", "/api/v2/teams/emu-team/items/item-1/import", /*idempotent=*/true);
  json::object expected;
  expected["annotations"] = annotations;
  expected["overwrite"] = "true";
  EXPECT_EQ(Json(r.body), json::value(expected));

  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->ImportAnnotations("item-1", annotations, false)).ok());
  EXPECT_EQ(Json(Last().body).at("overwrite"), json::value("false"));
}

TEST_F(DarwinClientTest, ImportAnnotationsSplitsAt32MBOn413) {
  PrimeTeam();
  // Three annotations of ~12 MB: [0, 1] fit under 32,000,000 bytes, [2] goes alone.
  json::array annotations = Annotations(3, 12'000'000);
  http_.Reply(413, R"({"errors": "payload too large"})");
  http_.Reply(200, "");
  http_.Reply(200, "");
  absl::Status s = RunSync(client_->ImportAnnotations("item-1", annotations, true));
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(http_.requests().size(), 4u);
  json::value first = Json(http_.requests()[2].body);
  json::value second = Json(http_.requests()[3].body);
  EXPECT_LT(http_.requests()[2].body.size(), 32'000'000u);
  EXPECT_LT(http_.requests()[3].body.size(), 32'000'000u);
  ASSERT_EQ(first.at("annotations").as_array().size(), 2u);
  ASSERT_EQ(second.at("annotations").as_array().size(), 1u);
  EXPECT_EQ(first.at("annotations").at(0).at("id"), annotations[0].at("id"));
  EXPECT_EQ(second.at("annotations").at(0).at("id"), annotations[2].at("id"));
  EXPECT_EQ(first.at("overwrite"), json::value("true"));
  EXPECT_EQ(second.at("overwrite"), json::value(false));
  EXPECT_EQ(Acquired(), 4);
}

TEST_F(DarwinClientTest, ImportAnnotationsHalvesPartsStill413) {
  PrimeTeam();
  json::array annotations = Annotations(4, 10);
  http_.Reply(413, "");  // whole payload
  http_.Reply(413, "");  // the 32 MB split is the same single part
  http_.Reply(200, "");  // [0, 1]
  http_.Reply(200, "");  // [2, 3]
  absl::Status s = RunSync(client_->ImportAnnotations("item-1", annotations, false));
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(http_.requests().size(), 5u);
  json::value a = Json(http_.requests()[3].body);
  json::value b = Json(http_.requests()[4].body);
  EXPECT_EQ(a.at("annotations").as_array().size(), 2u);
  EXPECT_EQ(a.at("overwrite"), json::value("false"));
  EXPECT_EQ(b.at("annotations").as_array().size(), 2u);
  EXPECT_EQ(b.at("annotations").at(0).at("id"), annotations[2].at("id"));
  EXPECT_EQ(b.at("overwrite"), json::value(false));
}

TEST_F(DarwinClientTest, ImportAnnotationsSingleAnnotationTooLargeIsResourceExhausted) {
  PrimeTeam();
  http_.Reply(413, "");
  http_.Reply(413, R"({"errors": "payload too large"})");
  absl::Status s = RunSync(client_->ImportAnnotations("item-1", Annotations(1, 10), true));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "V7 POST /api/v2/teams/emu-team/items/item-1/import: 413 payload too large");

  http_.Reply(413, "");
  s = RunSync(client_->ImportAnnotations("item-1", Annotations(1, 32'000'000), true));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("annotation 0 alone"));
}

TEST_F(DarwinClientTest, ImportAnnotationsOtherErrorIsNotSplit) {
  PrimeTeam();
  http_.Reply(422, R"({"errors": {"annotation_class_id": ["is invalid"]}})");
  absl::Status s = RunSync(client_->ImportAnnotations("item-1", Annotations(2, 1), true));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "V7 POST /api/v2/teams/emu-team/items/item-1/import: 422 annotation_class_id: is "
            "invalid");
  EXPECT_EQ(http_.requests().size(), 2u);
}

// ---- Error mapping

struct ErrorCase {
  int status;
  std::string body;
  absl::StatusCode code;
  std::string message;
};

TEST_F(DarwinClientTest, MapsHttpStatusesToCodesWithShortMessages) {
  const std::vector<ErrorCase> cases = {
      {400, R"({"error": "bad"})", absl::StatusCode::kInvalidArgument,
       "V7 GET /api/datasets: 400 bad"},
      {401, R"({"errors": {"detail": ["invalid key"]}})", absl::StatusCode::kUnauthenticated,
       "V7 GET /api/datasets: 401 detail: invalid key"},
      {403, "", absl::StatusCode::kPermissionDenied, "V7 GET /api/datasets: 403"},
      {404, "<html>Not Found</html>", absl::StatusCode::kNotFound, "V7 GET /api/datasets: 404"},
      {409, "{}", absl::StatusCode::kFailedPrecondition, "V7 GET /api/datasets: 409 {}"},
      {413, "", absl::StatusCode::kResourceExhausted, "V7 GET /api/datasets: 413"},
      {422, R"({"errors": {"name": ["has already been taken"]}})", absl::StatusCode::kAlreadyExists,
       "V7 GET /api/datasets: 422 name: has already been taken"},
      {422, R"({"errors": {"name": ["can't be blank"], "x": "y"}})",
       absl::StatusCode::kInvalidArgument, "V7 GET /api/datasets: 422 name: can't be blank; x: y"},
      {429, R"({"message": "slow down"})", absl::StatusCode::kUnavailable,
       "V7 GET /api/datasets: 429 slow down"},
      {429, R"({"errors": {"code": "INSUFFICIENT_REMAINING_STORAGE"}})",
       absl::StatusCode::kResourceExhausted,
       "V7 GET /api/datasets: 429 code: INSUFFICIENT_REMAINING_STORAGE"},
      {500, "oops", absl::StatusCode::kUnavailable, "V7 GET /api/datasets: 500"},
      {503, "", absl::StatusCode::kUnavailable, "V7 GET /api/datasets: 503"},
      {302, "", absl::StatusCode::kUnknown, "V7 GET /api/datasets: 302"},
      {200, "[{\"id\": 1,", absl::StatusCode::kInternal,
       "V7 GET /api/datasets: 200 response is not valid JSON"},
      {200, "", absl::StatusCode::kInternal,
       "V7 GET /api/datasets: 200 response is not valid JSON"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.status, " ", c.body));
    http_.Reply(c.status, c.body);
    absl::Status s = RunSync(client_->ListDatasets()).status();
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_EQ(s.message(), c.message);
  }
  EXPECT_EQ(Acquired(), static_cast<int64_t>(cases.size()));
}

TEST_F(DarwinClientTest, LongReasonsAreCutAt200Chars) {
  http_.Reply(422, absl::StrCat(R"({"error": ")", std::string(500, 'e'), R"("})"));
  absl::Status s = RunSync(client_->ListDatasets()).status();
  EXPECT_EQ(s.message(), absl::StrCat("V7 GET /api/datasets: 422 ", std::string(200, 'e')));
}

TEST_F(DarwinClientTest, NoErrorMessageContainsTheApiKey) {
  // V7 echoing the header back, in every place a reason is read from.
  const std::string echo = absl::StrCat("invalid Authorization: ApiKey ", kKey);
  const std::vector<std::string> bodies = {
      absl::StrCat(R"({"error": ")", echo, R"("})"),
      absl::StrCat(R"({"errors": {"key": [")", echo, R"("]}})"),
      absl::StrCat(R"({"message": ")", echo, R"("})"), absl::StrCat("\"", echo, "\""), echo};
  for (int status : {400, 401, 403, 404, 422, 429, 500}) {
    for (const std::string& body : bodies) {
      http_.Reply(status, body);
      absl::Status s = RunSync(client_->ListDatasets()).status();
      ASSERT_FALSE(s.ok());
      EXPECT_THAT(s.message(), Not(HasSubstr(kKey))) << s;
      EXPECT_THAT(s.message(), Not(HasSubstr("0123456789abcdef0123456789abcdef"))) << s;
    }
  }
  http_.Fail(absl::UnavailableError(absl::StrCat("connection reset; ", kKey)));
  absl::Status s = RunSync(client_->ListDatasets()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), Not(HasSubstr(kKey)));
  // The signed PUT too.
  http_.Reply(400, absl::StrCat(R"({"error": ")", echo, R"("})"));
  s = RunSync(client_->PutSignedUpload("https://s3.example/k?sig=1", ChunkedBody({"x"}), 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), Not(HasSubstr(kKey)));
  EXPECT_THAT(s.message(), Not(HasSubstr("sig=1")));
}

TEST_F(DarwinClientTest, ErrorMessagesNameThePathWithoutQuery) {
  PrimeTeam();
  http_.Reply(500, "");
  absl::Status s = RunSync(client_->ListItems(5, {"secret-looking-id"})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "V7 GET /api/v2/teams/emu-team/items: 500");
}

TEST_F(DarwinClientTest, TransportErrorsKeepTheirCode) {
  http_.Fail(absl::DeadlineExceededError("GET https://v7.example/api/datasets: timed out"));
  absl::Status s = RunSync(client_->ListDatasets()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("V7 GET /api/datasets: "));
}

TEST_F(DarwinClientTest, TeamErrorsStopV2Calls) {
  http_.Reply(401, R"({"errors": "unauthorized"})");
  absl::Status s = RunSync(client_->ListItems(5, {})).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "V7 GET /api/users/token_info: 401 unauthorized");
  EXPECT_EQ(http_.requests().size(), 1u);
}

// ---- Rate limiter

TEST_F(DarwinClientTest, OneLimiterTokenPerV7CallAndNoneForSignedUrls) {
  http_.Reply(200, kTeamInfo);
  http_.Reply(200, R"({"upload_url": "https://s3.example/k?sig=1"})");
  http_.Reply(200, "");
  http_.Reply(200, "{}");
  http_.Reply(200, kItemPage1);
  http_.Reply(200, kItemPage2);
  auto url = RunSync(client_->SignUpload("u1"));
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(Acquired(), 2);  // E1 + E24
  ASSERT_TRUE(RunSync(client_->PutSignedUpload(*url, ChunkedBody({"abc"}), 3)).ok());
  EXPECT_EQ(Acquired(), 2);
  ASSERT_TRUE(RunSync(client_->ConfirmUpload("u1")).ok());
  EXPECT_EQ(Acquired(), 3);
  ASSERT_TRUE(RunSync(client_->ListItems(1, {})).ok());
  EXPECT_EQ(Acquired(), 5);
  EXPECT_EQ(static_cast<int64_t>(http_.requests().size()), Acquired() + 1);
}

TEST(DarwinClientLimiterTest, LimiterKeyIsTheSha256HexOfTheKey) {
  // A bucket of one token a minute: after one call, the bucket the client
  // used is empty, and it is the digest's, not the raw key's.
  auto limiter = http::TokenBucketRateLimiter::Create({.requests_per_minute = 1, .burst = 1});
  ASSERT_TRUE(limiter.ok());
  FakeHttpClient http;
  auto client = DarwinClient::Create(&http, limiter->get(), ClientOptions(kBase, kKey));
  ASSERT_TRUE(client.ok());
  http.Reply(200, "[]");
  ASSERT_TRUE(RunSync((*client)->ListDatasets()).ok());
  EXPECT_FALSE(
      (*limiter)->TryAcquire("f8004b747aa3d259401e4ff8788a81382c37d1d99971f7df039416465355df55"));
  EXPECT_TRUE((*limiter)->TryAcquire(kKey));
}

// ---- Exports and cleanup

TEST_F(DarwinClientTest, CreateExportPostsDfoBodyWithItemIds) {
  PrimeTeam();
  http_.Reply(201, R"({"name": "lp-1", "status": "pending"})");
  absl::Status s = RunSync(client_->CreateExport("my set", "lp-1", {"i1", "i2"}));
  ASSERT_TRUE(s.ok()) << s;
  const RecordedRequest& r = Last();
  ExpectApiCall(r, "POST", "/api/v2/teams/emu-team/datasets/my%20set/exports",
                /*idempotent=*/false);
  EXPECT_EQ(Json(r.body), Json(R"({"name": "lp-1", "format": "darwin_json_2",
      "include_authorship": true, "include_export_token": false, "annotation_filters": {},
      "filters": {"item_ids": ["i1", "i2"], "not_statuses": ["archived", "error"]}})"));

  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->CreateExport("s", "lp-2", {})).ok());
  EXPECT_EQ(Json(Last().body).at("filters"), Json(R"({"not_statuses": ["archived", "error"]})"));

  http_.Reply(422, R"({"errors": {"name": ["has already been taken"]}})");
  s = RunSync(client_->CreateExport("s", "lp-1", {"i1"}));
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("/api/v2/teams/emu-team/datasets/s/exports"));
}

TEST_F(DarwinClientTest, ListExportsParsesReleases) {
  PrimeTeam();
  http_.Reply(200, R"([
    {"name": "release_1", "status": "complete", "version": 1, "format": "darwin_json_2",
     "metadata": {"num_images": 1}, "latest": true, "download_url": "https://s3.example/e.zip?sig=1"},
    {"name": "release_2", "status": "pending", "version": 2, "metadata": {}, "latest": false,
     "download_url": null}])");
  auto exports = RunSync(client_->ListExports("ds"));
  ASSERT_TRUE(exports.ok()) << exports.status();
  const RecordedRequest& r = Last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, std::string(kBase) + "/api/v2/teams/emu-team/datasets/ds/exports");
  ExpectApiHeaders(r);
  ASSERT_EQ(exports->size(), 2u);
  EXPECT_EQ((*exports)[0].name, "release_1");
  EXPECT_EQ((*exports)[0].status, "complete");
  EXPECT_EQ((*exports)[0].version, 1);
  EXPECT_EQ((*exports)[0].download_url, "https://s3.example/e.zip?sig=1");
  EXPECT_EQ((*exports)[1].name, "release_2");
  EXPECT_EQ((*exports)[1].status, "pending");
  EXPECT_EQ((*exports)[1].version, 2);
  EXPECT_FALSE((*exports)[1].download_url.has_value());

  http_.Reply(200, R"([{"status": "pending"}])");
  auto bad = RunSync(client_->ListExports("ds"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.status().message(), HasSubstr("[0].name"));
}

TEST_F(DarwinClientTest, DeleteExportAndNotFound) {
  PrimeTeam();
  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->DeleteExport("ds", "lp 1")).ok());
  const RecordedRequest& r = Last();
  ExpectApiCall(r, "DELETE", "/api/v2/teams/emu-team/datasets/ds/exports/lp%201",
                /*idempotent=*/true);
  http_.Reply(404, R"({"errors": {"detail": "not found"}})");
  EXPECT_EQ(RunSync(client_->DeleteExport("ds", "gone")).code(), absl::StatusCode::kNotFound);
}

class DarwinClientDownloadTest : public DarwinClientTest {
 protected:
  std::string ReadFile() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  bool FileExists() const { return std::ifstream(path_).good(); }
  // The download's file, in a directory of the test's own.
  ::labelport::testing::ScratchDir dir_{"darwin_client_download"};
  const std::string path_ = (dir_.path() / "export.zip").string();
};

TEST_F(DarwinClientDownloadTest, StreamsToFileWithoutAuthOrLimiterToken) {
  std::string zip = "PK\x03\x04 pretend zip bytes";
  http_.Reply(200, zip, {{"Content-Length", absl::StrCat(zip.size())}});
  auto bytes = RunSync(client_->DownloadExport("https://s3.example/exports/e.zip?X-Amz-Signature=s",
                                               path_, absl::Minutes(5)));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, static_cast<int64_t>(zip.size()));
  EXPECT_EQ(ReadFile(), zip);
  const RecordedRequest& r = Last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://s3.example/exports/e.zip?X-Amz-Signature=s");
  EXPECT_FALSE(r.Header("Authorization").has_value());
  EXPECT_FALSE(r.Header("Accept-Encoding").has_value());
  EXPECT_TRUE(r.headers.empty());
  EXPECT_GT(r.deadline, absl::Now() + absl::Minutes(4));
  EXPECT_LT(r.deadline, absl::Now() + absl::Minutes(6));
  EXPECT_EQ(Acquired(), 0);

  // No Content-Length (chunked): whatever arrived is the file (here an
  // empty archive's end record and more).
  const std::string empty_zip = absl::StrCat("PK\x05\x06", "abc");
  http_.Reply(200, empty_zip);
  bytes = RunSync(client_->DownloadExport("http://s3.example/e.zip", path_, absl::Seconds(5)));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 7);
  EXPECT_EQ(ReadFile(), empty_zip);
}

TEST_F(DarwinClientDownloadTest, BytesThatAreNotAZipAreDataLossAndRemoveTheFile) {
  http_.Reply(200, R"({"items": [{"id": )");
  auto bytes = RunSync(client_->DownloadExport("https://s3.example/e.zip?X-Amz-Signature=secret",
                                               path_, absl::Minutes(1)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bytes.status().message(), HasSubstr("do not begin like a zip"));
  EXPECT_THAT(bytes.status().message(), Not(HasSubstr("secret")));
  EXPECT_FALSE(FileExists());
}

TEST_F(DarwinClientDownloadTest, ShortBodyIsDataLossAndRemovesTheFile) {
  http_.Reply(200, "only part", {{"Content-Length", "100"}});
  auto bytes = RunSync(client_->DownloadExport("https://s3.example/e.zip?X-Amz-Signature=secret",
                                               path_, absl::Minutes(1)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bytes.status().message(), HasSubstr("https://s3.example:443/e.zip"));
  EXPECT_THAT(bytes.status().message(), HasSubstr("9 of 100"));
  EXPECT_THAT(bytes.status().message(), Not(HasSubstr("secret")));
  EXPECT_FALSE(FileExists());
}

TEST_F(DarwinClientDownloadTest, HttpErrorsNameTheUrlWithoutQuery) {
  http_.Reply(404, "<Error>NoSuchKey</Error>");
  auto bytes = RunSync(
      client_->DownloadExport("https://s3.example/e.zip?sig=secret", path_, absl::Minutes(1)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bytes.status().message(), "V7 export download https://s3.example:443/e.zip: HTTP 404");
  EXPECT_FALSE(FileExists());

  // Userinfo and fragment are cut too.
  http_.Reply(403, "<Error>AccessDenied</Error>");
  bytes = RunSync(client_->DownloadExport("https://user:secret@s3.example/e.zip?sig=secret#secret",
                                          path_, absl::Minutes(1)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(bytes.status().message(), Not(HasSubstr("secret")));

  http_.Fail(absl::DeadlineExceededError("GET https://s3.example/e.zip: read timed out"));
  bytes = RunSync(client_->DownloadExport("https://s3.example/e.zip", path_, absl::Minutes(1)));
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kDeadlineExceeded);

  EXPECT_EQ(
      RunSync(client_->DownloadExport("ftp://x/e.zip", path_, absl::Minutes(1))).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunSync(client_->DownloadExport("https://s3.example/e.zip", "/nonexistent-dir/x.zip",
                                            absl::Minutes(1)))
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

TEST_F(DarwinClientTest, DeleteItemsSendsFiltersInChunksOf500) {
  PrimeTeam();
  std::vector<std::string> ids;
  for (int i = 0; i < 1001; ++i) ids.push_back(absl::StrCat("id-", i));
  http_.Reply(200, "{}");
  http_.Reply(200, "{}");
  http_.Reply(200, "{}");
  size_t before = http_.requests().size();
  ASSERT_TRUE(RunSync(client_->DeleteItems(7, ids)).ok());
  ASSERT_EQ(http_.requests().size(), before + 3);
  std::vector<size_t> sizes;
  for (size_t i = before; i < http_.requests().size(); ++i) {
    const RecordedRequest& r = http_.requests()[i];
    EXPECT_EQ(r.method, "DELETE");
    EXPECT_EQ(r.url, std::string(kBase) + "/api/v2/teams/emu-team/items");
    ExpectApiHeaders(r);
    json::value body = Json(r.body);
    EXPECT_EQ(body.at("filters").at("dataset_ids"), Json("[7]"));
    sizes.push_back(body.at("filters").at("item_ids").as_array().size());
  }
  EXPECT_THAT(sizes, ElementsAre(500, 500, 1));
  EXPECT_EQ(
      Json(http_.requests()[before].body),
      Json(absl::StrCat(R"({"filters": {"dataset_ids": [7], "item_ids": [)",
                        absl::StrJoin(std::vector<std::string>(ids.begin(), ids.begin() + 500), ",",
                                      [](std::string* out, const std::string& id) {
                                        absl::StrAppend(out, "\"", id, "\"");
                                      }),
                        "]}}")));

  size_t count = http_.requests().size();
  ASSERT_TRUE(RunSync(client_->DeleteItems(7, {})).ok());
  EXPECT_EQ(http_.requests().size(), count);
}

TEST_F(DarwinClientTest, WorkflowCleanupCalls) {
  PrimeTeam();
  http_.Reply(200, R"([
    {"id": "wf-1", "name": "flow 1", "dataset": {"id": 12, "name": "ds", "instructions": ""},
     "stages": []},
    {"id": "wf-2", "name": "flow 2", "dataset": null}])");
  auto workflows = RunSync(client_->ListWorkflows());
  ASSERT_TRUE(workflows.ok()) << workflows.status();
  EXPECT_EQ(Last().method, "GET");
  EXPECT_EQ(Last().url, std::string(kBase) + "/api/v2/teams/emu-team/workflows");
  ExpectApiHeaders(Last());
  ASSERT_EQ(workflows->size(), 2u);
  EXPECT_EQ((*workflows)[0].id, "wf-1");
  EXPECT_EQ((*workflows)[0].name, "flow 1");
  EXPECT_EQ((*workflows)[0].dataset_id, 12);
  EXPECT_EQ((*workflows)[1].id, "wf-2");
  EXPECT_FALSE((*workflows)[1].dataset_id.has_value());

  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->UnlinkWorkflowDataset("wf-1")).ok());
  EXPECT_EQ(Last().method, "PATCH");
  EXPECT_EQ(Last().url,
            std::string(kBase) + "/api/v2/teams/emu-team/workflows/wf-1/unlink_dataset");
  EXPECT_EQ(Last().body, "");
  ExpectApiHeaders(Last());

  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->DeleteWorkflow("wf-1")).ok());
  EXPECT_EQ(Last().method, "DELETE");
  EXPECT_EQ(Last().url, std::string(kBase) + "/api/v2/teams/emu-team/workflows/wf-1");
  ExpectApiHeaders(Last());

  http_.Reply(404, "{}");
  EXPECT_EQ(RunSync(client_->DeleteWorkflow("wf-9")).code(), absl::StatusCode::kNotFound);
}

TEST_F(DarwinClientTest, ArchiveDatasetPutsEmptyObject) {
  http_.Reply(200, R"({"id": 12, "archived": true})");
  ASSERT_TRUE(RunSync(client_->ArchiveDataset(12)).ok());
  const RecordedRequest& r = Last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, std::string(kBase) + "/api/datasets/12/archive");
  EXPECT_EQ(r.body, "{}");
  ExpectApiHeaders(r);
  EXPECT_EQ(Acquired(), 1);
}

}  // namespace
}  // namespace labelport::backend::darwin
