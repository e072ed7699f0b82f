// The retry layer of DarwinClient (darwin_client.h, "Retries"): which V7
// requests are repeated, after which failures, how long it waits and what
// bounds a step. Time is a fake clock advanced by the fake sleep, so every
// wait is observed exactly and no test sleeps.
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/backend/darwin/darwin_client.h"
#include "tests/unit/backend/darwin/darwin_client_fixture.h"
#include "tests/unit/backend/darwin/fake_http_client.h"
#include "tests/unit/common/run_sync.h"
#include "tests/unit/common/scratch_dir.h"
#include "tests/unit/http/body_factories.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
using http::RetryEvent;
using http::testing::FakeHttpClient;
using http::testing::OneChunkBody;
using http::testing::RecordedRequest;
using ::labelport::testing::RunSync;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kKey;
using ::testing::Not;

// What darwin-sim's "malformed" fault answers: a 200 cut inside its JSON.
constexpr char kMalformed[] = R"({"items": [{"id": )";
constexpr char kClasses[] = R"({"annotation_classes": [
  {"id": 41, "name": "car", "annotation_types": ["bounding_box"], "datasets": [{"id": 7}]}]})";
constexpr char kCarClass[] = R"({"id": 41, "name": "car", "annotation_types": ["bounding_box"],
  "datasets": [{"id": 7}]})";
constexpr char kTypes[] = R"([{"id": 2, "name": "bounding_box"}])";

class DarwinClientRetryTest : public testing::DarwinClientFixture {
 protected:
  // Backoff without jitter: 1 s, 2 s, 4 s, 8 s, 8 s, ...
  static http::RetryPolicy Policy(int max_attempts) {
    http::RetryPolicy policy;
    policy.max_attempts = max_attempts;
    policy.initial_backoff = absl::Seconds(1);
    policy.multiplier = 2;
    policy.max_backoff = absl::Seconds(8);
    policy.jitter = 0.5;
    return policy;
  }

  void SetUp() override { Build(Policy(5), absl::Minutes(1)); }

  void Build(http::RetryPolicy policy, absl::Duration step_timeout) {
    DarwinClient::Options options;
    options.base_url = "https://v7.example";
    options.api_key = kKey;
    options.retry = policy;
    options.step_timeout = step_timeout;
    options.retry_hooks.now = [this] { return now_; };
    options.retry_hooks.sleep = [this](absl::Duration d) -> boost::asio::awaitable<void> {
      sleeps_.push_back(d);
      now_ += d;
      co_return;
    };
    options.retry_hooks.uniform01 = [] { return 0.0; };
    options.retry_hooks.on_event = [this](const RetryEvent& e) { events_.push_back(e); };
    DarwinClientFixture::Build(std::move(options));
  }

  // "METHOD path" of every request since `from`.
  std::vector<std::string> Calls(size_t from = 0) const {
    std::vector<std::string> out;
    for (size_t i = from; i < http_.requests().size(); ++i) {
      const RecordedRequest& r = http_.requests()[i];
      std::string path(r.url.substr(r.url.find('/', r.url.find("://") + 3)));
      out.push_back(absl::StrCat(r.method, " ", path.substr(0, path.find('?'))));
    }
    return out;
  }

  absl::Time now_ = absl::FromUnixSeconds(2'000'000'000);
  std::vector<absl::Duration> sleeps_;
  std::vector<RetryEvent> events_;
};

// ---- What is retried, and how long the layer waits.

TEST_F(DarwinClientRetryTest, SafeGetIsRetriedAfterEveryKindOfTransientFailure) {
  http_.Fail(absl::UnavailableError("connection reset"));
  http_.Reply(500, "oops");
  http_.Reply(200, kMalformed);
  http_.Fail(absl::DeadlineExceededError("read timed out"));
  http_.Reply(200, R"([{"id": 7, "slug": "ds"}])");
  auto datasets = RunSync(client_->ListDatasets());
  ASSERT_TRUE(datasets.ok()) << datasets.status();
  ASSERT_EQ(datasets->size(), 1u);
  EXPECT_EQ(http_.requests().size(), 5u);
  EXPECT_THAT(sleeps_,
              ElementsAre(absl::Seconds(1), absl::Seconds(2), absl::Seconds(4), absl::Seconds(8)));
  // One limiter token per attempt.
  EXPECT_EQ(limiter_->stats().acquired, 5);
  ASSERT_EQ(events_.size(), 4u);
  EXPECT_EQ(events_[0].kind, RetryEvent::Kind::kRetry);
  EXPECT_EQ(events_[0].error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(events_[1].http_status, 500);
  EXPECT_EQ(events_[2].error.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(events_[0].method, "GET");
  EXPECT_EQ(events_[0].url, "https://v7.example/api/datasets");
  for (const RecordedRequest& r : http_.requests()) EXPECT_TRUE(r.idempotent);
}

TEST_F(DarwinClientRetryTest, RetryAfterIsHonouredInsteadOfTheBackoff) {
  // Longer than the largest backoff, and as an HTTP-date.
  http_.Reply(429, R"({"message": "slow down"})", {{"Retry-After", "20"}});
  http_.Reply(503, "",
              {{"Retry-After", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                                now_ + absl::Seconds(23), absl::UTCTimeZone())}});
  http_.Reply(200, "[]");
  ASSERT_TRUE(RunSync(client_->ListDatasets()).ok());
  EXPECT_THAT(sleeps_, ElementsAre(absl::Seconds(20), absl::Seconds(3)));
}

TEST_F(DarwinClientRetryTest, AttemptsAreBoundedAndTheLastErrorIsReturned) {
  for (int i = 0; i < 5; ++i) http_.Reply(503, "");
  absl::Status s = RunSync(client_->ListDatasets()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "V7 GET /api/datasets: 503");
  EXPECT_EQ(http_.requests().size(), 5u);
  EXPECT_EQ(sleeps_.size(), 4u);
  ASSERT_EQ(events_.size(), 5u);
  EXPECT_EQ(events_.back().kind, RetryEvent::Kind::kGiveUp);
  EXPECT_EQ(events_.back().attempt, 5);
}

TEST_F(DarwinClientRetryTest, TheStepDeadlineBoundsTheAttempts) {
  // 10 attempts allowed, but 5 s per step: attempts at 0 s, 1 s and 3 s;
  // the next wait (4 s) would end after the deadline.
  Build(Policy(10), absl::Seconds(5));
  for (int i = 0; i < 3; ++i) http_.Reply(500, "");
  EXPECT_EQ(RunSync(client_->ListDatasets()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http_.requests().size(), 3u);
  EXPECT_EQ(http_.pending_replies(), 0u);
  EXPECT_THAT(sleeps_, ElementsAre(absl::Seconds(1), absl::Seconds(2)));
  EXPECT_EQ(events_.back().kind, RetryEvent::Kind::kGiveUp);

  // A Retry-After past the deadline ends the step at once; every attempt's
  // HTTP deadline lies within the step.
  const size_t before = http_.requests().size();
  http_.Reply(429, "", {{"Retry-After", "60"}});
  EXPECT_EQ(RunSync(client_->ListDatasets()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http_.requests().size(), before + 1);
  EXPECT_LE(http_.requests().back().deadline, now_ + absl::Seconds(5));
}

TEST_F(DarwinClientRetryTest, PermanentFailuresEndTheStepAtOnce) {
  const std::vector<std::pair<int, std::string>> answers = {
      {400, "{}"},
      {401, "{}"},
      {403, "{}"},
      {404, "{}"},
      {413, ""},
      {422, R"({"errors": {"name": ["can't be blank"]}})"},
      {429, R"({"errors": {"code": "INSUFFICIENT_REMAINING_STORAGE"}})"},
      {501, ""}};
  for (const auto& [status, body] : answers) {
    SCOPED_TRACE(status);
    const size_t before = http_.requests().size();
    http_.Reply(status, body);
    EXPECT_FALSE(RunSync(client_->ListDatasets()).ok());
    EXPECT_EQ(http_.requests().size(), before + 1);
  }
  // A 200 whose JSON parses but lacks a field is an answer, not a cut one.
  http_.Reply(200, R"([{"slug": "no-id"}])");
  EXPECT_EQ(RunSync(client_->ListDatasets()).status().code(), absl::StatusCode::kInternal);
  // Refused by the egress policy or malformed: no retry either.
  http_.Fail(absl::PermissionDeniedError("destination refused"));
  EXPECT_EQ(RunSync(client_->ListDatasets()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(DarwinClientRetryTest, CheckAccessIsNeverRetried) {
  http_.Reply(503, "");
  EXPECT_EQ(RunSync(client_->CheckAccess()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

// ---- Requests that are safe to repeat as they are.

TEST_F(DarwinClientRetryTest, ConfirmAndImportAreRepeatedAsTheyAre) {
  PrimeTeam();
  // A confirm whose answer is not JSON did not come from V7's handler.
  http_.Reply(200, kMalformed);
  http_.Reply(200, "{}");
  ASSERT_TRUE(RunSync(client_->ConfirmUpload("u1")).ok());
  // An import: 500, a dropped connection, then done; the same body each time.
  json::array annotations;
  annotations.push_back(json::object{{"id", "a-1"}, {"annotation_class_id", 41}});
  http_.Reply(500, "");
  http_.Fail(absl::UnavailableError("connection closed before the answer"));
  http_.Reply(200, "{}");
  const size_t before = http_.requests().size();
  ASSERT_TRUE(RunSync(client_->ImportAnnotations("item-1", annotations, true)).ok());
  ASSERT_EQ(http_.requests().size(), before + 3);
  for (size_t i = before; i < http_.requests().size(); ++i) {
    EXPECT_EQ(http_.requests()[i].body, http_.requests()[before].body);
    EXPECT_THAT(http_.requests()[i].body, HasSubstr(R"("overwrite":"true")"));
    EXPECT_TRUE(http_.requests()[i].idempotent);
  }
}

TEST_F(DarwinClientRetryTest, SignedPutSendsTheWholeBodyOnEveryAttempt) {
  http_.Reply(503, "");
  http_.Fail(absl::UnavailableError("reset"));
  http_.Reply(200, "");
  ASSERT_TRUE(
      RunSync(client_->PutSignedUpload("https://s3.example/k?sig=secret", OneChunkBody("bytes"), 5))
          .ok());
  ASSERT_EQ(http_.requests().size(), 3u);
  for (const RecordedRequest& r : http_.requests()) EXPECT_EQ(r.body, "bytes");
  EXPECT_EQ(limiter_->stats().acquired, 0);
  // Events name the signed URL without its signature.
  ASSERT_FALSE(events_.empty());
  EXPECT_THAT(events_[0].url, Not(HasSubstr("secret")));
}

TEST_F(DarwinClientRetryTest, UploadSendsTheBytesAgainWhenV7HasNone) {
  PrimeTeam();
  http_.Reply(200, R"({"upload_url": "https://s3.example/k?sig=1"})");
  http_.Reply(200, kMalformed);  // a PUT "answered" by something else
  http_.Reply(422, R"({"errors": {"detail": "nothing was uploaded"}})");
  http_.Reply(200, "");
  http_.Reply(200, "{}");
  const size_t before = http_.requests().size();
  ASSERT_TRUE(RunSync(client_->Upload("u1", OneChunkBody("img"), 3)).ok());
  EXPECT_THAT(Calls(before),
              ElementsAre("GET /api/v2/teams/emu-team/items/uploads/u1/sign", "PUT /k",
                          "POST /api/v2/teams/emu-team/items/uploads/u1/confirm", "PUT /k",
                          "POST /api/v2/teams/emu-team/items/uploads/u1/confirm"));

  // Bounded: after max_attempts PUTs the confirm's refusal is returned.
  http_.Reply(200, R"({"upload_url": "https://s3.example/k?sig=1"})");
  for (int i = 0; i < 5; ++i) {
    http_.Reply(200, "");
    http_.Reply(422, R"({"errors": {"detail": "nothing was uploaded"}})");
  }
  EXPECT_EQ(RunSync(client_->Upload("u2", OneChunkBody("img"), 3)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.pending_replies(), 0u);
}

TEST_F(DarwinClientRetryTest, DownloadIsRepeatedAfterCutOrForeignBodies) {
  const ::labelport::testing::ScratchDir dir("darwin_client_retry_download");
  const std::string path = (dir.path() / "export.zip").string();
  const std::string zip("PK\x03\x04 the archive", 17);
  http_.Reply(200, kMalformed);                                    // not a zip
  http_.Reply(200, zip.substr(0, 8), {{"Content-Length", "17"}});  // cut
  http_.Reply(502, "<html>bad gateway</html>");
  http_.Reply(200, zip, {{"Content-Length", "17"}});
  auto bytes =
      RunSync(client_->DownloadExport("https://s3.example/e.zip?sig=s", path, absl::Minutes(5)));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 17);
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), zip);
  EXPECT_EQ(http_.requests().size(), 4u);
  std::remove(path.c_str());

  // 404: the export is gone, no retry; the file is removed.
  http_.Reply(404, "");
  EXPECT_EQ(RunSync(client_->DownloadExport("https://s3.example/e.zip", path, absl::Minutes(5)))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(http_.requests().size(), 5u);
  EXPECT_FALSE(std::ifstream(path).good());
}

// ---- Creates: looked up before they are sent again.

TEST_F(DarwinClientRetryTest, DatasetCreateListsFirstOnEveryAttempt) {
  http_.Reply(200, "[]");
  http_.Reply(500, "");                              // the create's answer is lost...
  http_.Reply(200, R"([{"id": 7, "slug": "ds"}])");  // ...but V7 made it
  auto ds = RunSync(client_->GetOrCreateDataset("ds"));
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->id, 7);
  EXPECT_THAT(Calls(), ElementsAre("GET /api/datasets", "POST /api/datasets", "GET /api/datasets"));
  EXPECT_FALSE(http_.requests()[1].idempotent);
}

TEST_F(DarwinClientRetryTest, ClassCreateWithALostAnswerIsFoundNotCreatedAgain) {
  PrimeTeam();
  http_.Reply(200, kTypes);
  http_.Reply(200, kMalformed);  // the create's answer is garbled
  http_.Reply(200, kClasses);
  const size_t before = http_.requests().size();
  auto cls = RunSync(client_->CreateAnnotationClass(7, "car", {"bounding_box"}));
  ASSERT_TRUE(cls.ok()) << cls.status();
  EXPECT_EQ(cls->id, 41);
  EXPECT_THAT(Calls(before),
              ElementsAre("GET /api/annotation_types", "POST /api/annotation_classes",
                          "GET /api/teams/emu-team/annotation_classes"));

  // Not there after all (V7 refused the work): created again after the lookup.
  http_.Reply(503, "");
  http_.Reply(200, R"({"annotation_classes": []})");
  http_.Reply(200, kCarClass);
  const size_t again = http_.requests().size();
  cls = RunSync(client_->CreateAnnotationClass(7, "car", {"bounding_box"}));
  ASSERT_TRUE(cls.ok()) << cls.status();
  EXPECT_THAT(Calls(again), ElementsAre("POST /api/annotation_classes",
                                        "GET /api/teams/emu-team/annotation_classes",
                                        "POST /api/annotation_classes"));
}

TEST_F(DarwinClientRetryTest, PropertyCreateAndValuesAreLookedUpBeforeRepeating) {
  PrimeTeam();
  const std::string listed = R"({"properties": [{"id": "p1", "name": "color",
    "type": "single_select", "granularity": "section", "annotation_class_id": 41,
    "property_values": [{"id": "v1", "value": "red"}]}]})";
  PropertyDefinition def;
  def.name = "color";
  def.type = "single_select";
  def.annotation_class_id = 41;
  def.values = {"red"};
  http_.Fail(absl::UnavailableError("connection closed before the answer"));
  http_.Reply(200, listed);
  size_t before = http_.requests().size();
  auto property = RunSync(client_->CreateProperty(def));
  ASSERT_TRUE(property.ok()) << property.status();
  EXPECT_EQ(property->id, "p1");
  EXPECT_THAT(Calls(before), ElementsAre("POST /api/v2/teams/emu-team/properties",
                                         "GET /api/v2/teams/emu-team/properties"));

  // E18 appends: after a lost answer the property is re-read, and a value
  // that arrived is not sent again.
  DarwinProperty p = *property;
  http_.Reply(504, "");
  http_.Reply(200, R"({"properties": [{"id": "p1", "name": "color", "type": "single_select",
    "granularity": "section", "annotation_class_id": 41, "property_values": [
      {"id": "v1", "value": "red"}, {"id": "v2", "value": "blue"}]}]})");
  http_.Reply(200, R"({"id": "p1", "name": "color", "type": "single_select",
    "granularity": "section", "annotation_class_id": 41, "property_values": [
      {"id": "v1", "value": "red"}, {"id": "v2", "value": "blue"},
      {"id": "v3", "value": "green"}]})");
  before = http_.requests().size();
  auto updated = RunSync(client_->AddPropertyValues(p, {"blue", "green"}));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->values.size(), 3u);
  EXPECT_THAT(Calls(before), ElementsAre("PUT /api/v2/teams/emu-team/properties/p1",
                                         "GET /api/v2/teams/emu-team/properties",
                                         "PUT /api/v2/teams/emu-team/properties/p1"));
  EXPECT_THAT(http_.requests()[before].body, HasSubstr("blue"));
  EXPECT_THAT(http_.requests().back().body, Not(HasSubstr("blue")));
  EXPECT_THAT(http_.requests().back().body, HasSubstr("green"));
  EXPECT_FALSE(http_.requests().back().idempotent);
}

TEST_F(DarwinClientRetryTest, ExportCreateWithALostAnswerIsFoundByName) {
  PrimeTeam();
  http_.Reply(500, "");
  http_.Reply(200, R"([{"name": "lp-1", "status": "pending", "download_url": null}])");
  const size_t before = http_.requests().size();
  ASSERT_TRUE(RunSync(client_->CreateExport("ds", "lp-1", {"i1"})).ok());
  EXPECT_THAT(Calls(before), ElementsAre("POST /api/v2/teams/emu-team/datasets/ds/exports",
                                         "GET /api/v2/teams/emu-team/datasets/ds/exports"));
  // A name taken on the first attempt is not ours: ALREADY_EXISTS, no retry.
  http_.Reply(422, R"({"errors": {"name": ["has already been taken"]}})");
  EXPECT_EQ(RunSync(client_->CreateExport("ds", "lp-1", {"i1"})).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(DarwinClientRetryOptionsTest, InvalidRetrySettingsAreRefused) {
  FakeHttpClient http;
  DarwinClient::Options options;
  options.api_key = kKey;
  options.retry.max_attempts = 0;
  EXPECT_EQ(DarwinClient::Create(&http, nullptr, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.retry = DarwinClient::DefaultRetryPolicy();
  options.step_timeout = absl::ZeroDuration();
  EXPECT_EQ(DarwinClient::Create(&http, nullptr, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labelport::backend::darwin
