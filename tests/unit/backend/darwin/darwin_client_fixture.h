// The fixture the DarwinClient unit tests share: a DarwinClient over a
// FakeHttpClient and an effectively unlimited rate limiter, with the test API
// key and V7's answer to the team lookup (E1).
#ifndef LABELPORT_TESTS_UNIT_BACKEND_DARWIN_DARWIN_CLIENT_FIXTURE_H_
#define LABELPORT_TESTS_UNIT_BACKEND_DARWIN_DARWIN_CLIENT_FIXTURE_H_

#include <memory>
#include <utility>

#include "gtest/gtest.h"
#include "service/backend/darwin/darwin_client.h"
#include "service/http/token_bucket_rate_limiter.h"
#include "tests/unit/backend/darwin/fake_http_client.h"
#include "tests/unit/common/run_sync.h"

namespace labelport::backend::darwin::testing {

// The API key of the tests' team (never to appear in errors or logs).
inline constexpr char kKey[] = "ABCDEFG.0123456789abcdef0123456789abcdef";
// V7's answer to E1: team "emu-team".
inline constexpr char kTeamInfo[] = R"({"selected_team": {"id": 1, "slug": "emu-team"}})";

class DarwinClientFixture : public ::testing::Test {
 protected:
  // Builds `client_` with `options` over `http_` and `limiter_`.
  void Build(DarwinClient::Options options) {
    auto limiter =
        http::TokenBucketRateLimiter::Create({.requests_per_minute = 1e7, .burst = 100000});
    ASSERT_TRUE(limiter.ok()) << limiter.status();
    limiter_ = std::move(*limiter);
    auto client = DarwinClient::Create(&http_, limiter_.get(), std::move(options));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  // Scripts E1 and runs it, so later calls start from a cached team.
  void PrimeTeam() {
    http_.Reply(200, kTeamInfo);
    ASSERT_TRUE(::labelport::testing::RunSync(client_->TeamSlug()).ok());
  }

  http::testing::FakeHttpClient http_;
  std::unique_ptr<http::TokenBucketRateLimiter> limiter_;
  std::unique_ptr<DarwinClient> client_;
};

}  // namespace labelport::backend::darwin::testing

#endif  // LABELPORT_TESTS_UNIT_BACKEND_DARWIN_DARWIN_CLIENT_FIXTURE_H_
