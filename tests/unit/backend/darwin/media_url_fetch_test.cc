// FetchMediaUrl (redirects, limits, redaction) and OpenMedia's temporary
// file for URLs, against a FakeHttpClient: no network. The egress policy
// itself is tested in tests/unit/http (egress_policy_test,
// beast_http_client_egress_test); here a refusal is a scripted
// PERMISSION_DENIED from the transport.
#include "service/backend/darwin/media_url_fetch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/backend/darwin/media_source.h"
#include "service/common/errors.h"
#include "tests/unit/backend/darwin/fake_http_client.h"
#include "tests/unit/common/run_sync.h"

namespace labelport::backend::darwin {
namespace {

using ::labelport::testing::RunSync;
using ::testing::HasSubstr;
using ::testing::Not;

class MediaUrlFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("media_url_fetch_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = std::fopen((dir_ / "out").c_str(), "wb");
    ASSERT_NE(file_, nullptr);
  }
  void TearDown() override {
    if (file_ != nullptr) std::fclose(file_);
    std::filesystem::remove_all(dir_);
  }

  absl::StatusOr<int64_t> Fetch(const std::string& url, MediaFetchLimits limits = {}) {
    return RunSync(FetchMediaUrl(http_, url, limits, file_, absl::Now() + absl::Seconds(30)));
  }

  std::string Written() {
    std::fflush(file_);
    std::ifstream in(dir_ / "out", std::ios::binary);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }

  int FilesIn(const std::filesystem::path& dir) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      (void)entry;
      ++n;
    }
    return n;
  }

  http::testing::FakeHttpClient http_;
  std::filesystem::path dir_;
  std::FILE* file_ = nullptr;
};

TEST_F(MediaUrlFetchTest, StreamsTheBodyWithTheLimitsOnTheRequest) {
  http_.Reply(200, "image bytes");
  MediaFetchLimits limits;
  limits.max_bytes = 1000;
  limits.stall_timeout = absl::Seconds(7);
  auto written = Fetch("https://cdn.example/a/pic.png?sig=secret", limits);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, 11);
  EXPECT_EQ(Written(), "image bytes");
  ASSERT_EQ(http_.requests().size(), 1u);
  const auto& request = http_.requests()[0];
  EXPECT_EQ(request.url, "https://cdn.example/a/pic.png?sig=secret");
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.stall_timeout, absl::Seconds(7));
  EXPECT_EQ(request.max_streamed_body_bytes, 1000);
  EXPECT_TRUE(request.Header("Authorization") == std::nullopt);
}

TEST_F(MediaUrlFetchTest, FollowsRedirectsHopByHopAndKeepsOnlyTheLastBody) {
  http_.Reply(301, "moved, see elsewhere", {{"Location", "//mirror.example/x/y.png?sig=2"}});
  http_.Reply(302, "", {{"location", "/z/final.png"}});
  http_.Reply(303, "redirect body", {{"Location", "../other.png"}});
  http_.Reply(307, "", {{"Location", "?v=4"}});
  http_.Reply(308, "", {{"Location", "https://last.example/done.png"}});
  http_.Reply(200, "final");
  auto written = Fetch("https://cdn.example/a/pic.png?sig=1");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Written(), "final");
  std::vector<std::string> urls;
  for (const auto& r : http_.requests()) urls.push_back(r.url);
  EXPECT_THAT(urls, ::testing::ElementsAre("https://cdn.example/a/pic.png?sig=1",
                                           "https://mirror.example/x/y.png?sig=2",
                                           "https://mirror.example:443/z/final.png",
                                           "https://mirror.example:443/z/../other.png",
                                           "https://mirror.example:443/z/../other.png?v=4",
                                           "https://last.example/done.png"));
}

TEST_F(MediaUrlFetchTest, MoreThanFiveRedirectsIsAnError) {
  for (int i = 0; i < 6; ++i) http_.Reply(302, "", {{"Location", "/loop?sig=secret"}});
  auto written = Fetch("http://cdn.example/start?sig=secret");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(written.status().message(),
            "media URL 'http://cdn.example:80/start' redirected more than 5 times");
  EXPECT_EQ(http_.requests().size(), 6u);  // the first request and 5 hops
}

TEST_F(MediaUrlFetchTest, DowngradeFromHttpsToHttpIsRefused) {
  http_.Reply(302, "", {{"Location", "http://cdn.example/plain.png?sig=secret"}});
  auto written = Fetch("https://cdn.example/a.png?sig=secret");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(written.status().message(), HasSubstr("redirected from https to http"));
  EXPECT_THAT(std::string(written.status().message()), Not(HasSubstr("secret")));
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(MediaUrlFetchTest, BadRedirectsAreErrorsWithoutSecrets) {
  http_.Reply(302, "");
  auto no_location = Fetch("https://cdn.example/a.png?sig=secret");
  EXPECT_EQ(no_location.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(no_location.status().message(), HasSubstr("without a Location"));
  EXPECT_THAT(std::string(no_location.status().message()), Not(HasSubstr("secret")));

  http_.Reply(302, "", {{"Location", "file:///etc/passwd"}});
  auto other_scheme = Fetch("https://cdn.example/a.png?sig=secret");
  EXPECT_EQ(other_scheme.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other_scheme.status().message(), HasSubstr("redirected to an unusable URL"));
}

TEST_F(MediaUrlFetchTest, RefusalKeepsItsCodeAndReasonAndNamesTheHop) {
  http_.Reply(302, "", {{"Location", "http://127.0.0.1:9464/metrics?x=secret"}});
  http_.Fail(common::WithDetails(
      absl::PermissionDeniedError("GET http://127.0.0.1:9464/metrics: host 127.0.0.1 (loopback "
                                  "address): refused by the egress policy"),
      "", "MEDIA_URL_DESTINATION_FORBIDDEN"));
  auto written = Fetch("http://cdn.example/a.png?sig=secret");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(common::ErrorReason(written.status()).value_or(""), "MEDIA_URL_DESTINATION_FORBIDDEN");
  EXPECT_THAT(written.status().message(),
              HasSubstr("cannot fetch media URL 'http://cdn.example:80/a.png' (redirected to "
                        "'http://127.0.0.1:9464/metrics'): GET"));
  EXPECT_THAT(std::string(written.status().message()), Not(HasSubstr("secret")));
}

TEST_F(MediaUrlFetchTest, BodyOverTheLimitIsResourceExhausted) {
  http_.Reply(200, std::string(20, 'x'));
  MediaFetchLimits limits;
  limits.max_bytes = 10;
  auto written = Fetch("http://cdn.example/big.bin?sig=secret", limits);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(written.status().message(),
            "media URL 'http://cdn.example:80/big.bin' is larger than the server's limit of 10 "
            "bytes per media file (--max_media_bytes)");
  EXPECT_LE(Written().size(), 10u);
}

TEST_F(MediaUrlFetchTest, StatusesBecomeErrors) {
  http_.Reply(404, "");
  EXPECT_EQ(Fetch("http://cdn.example/gone.png?sig=secret").status().message(),
            "media URL 'http://cdn.example:80/gone.png' answered 404");
  http_.Reply(500, "");
  auto failed = Fetch("http://cdn.example/x.png");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("answered HTTP 500"));
  auto malformed = Fetch("http://user:secret@cdn.example/x.png?sig=secret");
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(malformed.status().message()), Not(HasSubstr("secret")));
}

TEST_F(MediaUrlFetchTest, OpenMediaRemovesItsTemporaryFileOnEveryPath) {
  const std::filesystem::path temp = dir_ / "tmp";
  std::filesystem::create_directories(temp);
  labelport::v1::MediaReference media;
  media.set_url("http://cdn.example/a.png?sig=secret");
  auto open = [&]() {
    return RunSync(OpenMedia(media, http_, "/nonexistent", temp.string(),
                             absl::Now() + absl::Seconds(10), common::MediaPathPolicy{},
                             MediaFetchLimits{}));
  };
  http_.Fail(absl::PermissionDeniedError("refused"));
  auto refused = open();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(FilesIn(temp), 0);

  http_.Reply(302, "", {{"Location", "/b.png"}});
  http_.Reply(200, "bytes");
  auto source = open();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->size_bytes(), 5);
  EXPECT_EQ(FilesIn(temp), 1);
  source->reset();  // the upload is done
  EXPECT_EQ(FilesIn(temp), 0);
}

// Never answers: the fetch waits until its coroutine is destroyed.
class HangingClient : public http::HttpClient {
 public:
  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> Send(http::HttpRequest,
                                                                  int64_t) override {
    co_return absl::UnimplementedError("Send");
  }
  boost::asio::awaitable<absl::StatusOr<http::HttpResponse>> SendStreaming(
      http::HttpRequest, http::BodyChunkSink) override {
    entered = true;
    boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor);
    forever.expires_after(std::chrono::hours(1));
    co_await forever.async_wait(boost::asio::use_awaitable);
    co_return absl::DeadlineExceededError("never");
  }
  bool entered = false;
};

TEST_F(MediaUrlFetchTest, CancelledFetchRemovesItsTemporaryFile) {
  const std::filesystem::path temp = dir_ / "tmp";
  std::filesystem::create_directories(temp);
  labelport::v1::MediaReference media;
  media.set_url("http://cdn.example/slow.png");
  HangingClient hanging;
  // The coroutine keeps references to its arguments: they outlive it.
  const std::string media_dir = "/nonexistent";
  const std::string temp_dir = temp.string();
  const MediaFetchLimits limits;
  {
    boost::asio::io_context ctx;
    boost::asio::co_spawn(
        ctx,
        OpenMedia(media, hanging, media_dir, temp_dir, absl::Now() + absl::Hours(1),
                  common::MediaPathPolicy{}, limits),
        boost::asio::detached);
    while (!hanging.entered && ctx.run_one() > 0) {
    }
    ASSERT_TRUE(hanging.entered);
    EXPECT_EQ(FilesIn(temp), 1);
  }  // the io_context goes, and with it the suspended coroutine
  EXPECT_EQ(FilesIn(temp), 0);
}

}  // namespace
}  // namespace labelport::backend::darwin
