#include "service/backend/darwin/darwin_backend_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/unit/backend/darwin/fake_http_client.h"

namespace labelport::backend::darwin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DarwinBackendProviderTest : public ::testing::Test {
 protected:
  DarwinBackendProviderTest()
      : provider_(
            &http_, &media_http_,
            [this](const std::string& tenant) -> absl::StatusOr<DarwinTenantAccount> {
              auto it = accounts_.find(tenant);
              if (it == accounts_.end())
                return absl::FailedPreconditionError("tenant '" + tenant + "' has no V7 API key");
              return it->second;
            },
            DarwinBackend::Options{}) {}

  http::testing::FakeHttpClient http_;
  http::testing::FakeHttpClient media_http_;
  std::map<std::string, DarwinTenantAccount> accounts_;
  DarwinBackendProvider provider_;
};

TEST_F(DarwinBackendProviderTest, OneBackendPerTenantReusedUntilTheAccountChanges) {
  accounts_["acme"] = {
      .api_key = "acme-key", .base_url = "http://v7", .media_dir = "/m/acme", .media_roots = {}};
  accounts_["beta"] = {
      .api_key = "beta-key", .base_url = "http://v7", .media_dir = "/m/beta", .media_roots = {}};
  auto acme = provider_.BackendFor("acme");
  auto again = provider_.BackendFor("acme");
  auto beta = provider_.BackendFor("beta");
  ASSERT_TRUE(acme.ok() && again.ok() && beta.ok());
  EXPECT_EQ(acme->get(), again->get());
  EXPECT_NE(acme->get(), beta->get());

  // A rotated key builds a new backend; the old one stays usable while held.
  accounts_["acme"].api_key = "acme-rotated";
  auto rotated = provider_.BackendFor("acme");
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->get(), acme->get());
  EXPECT_EQ(acme->use_count(), 2);  // `acme` and `again`: the provider let go of it
  EXPECT_EQ(provider_.BackendFor("acme")->get(), rotated->get());

  // So do other media roots (a reloaded tenants file).
  accounts_["acme"].media_roots = {"/srv/acme"};
  auto rooted = provider_.BackendFor("acme");
  ASSERT_TRUE(rooted.ok());
  EXPECT_NE(rooted->get(), rotated->get());
  EXPECT_EQ(provider_.BackendFor("acme")->get(), rooted->get());
}

TEST_F(DarwinBackendProviderTest, ErrorsNameTheTenantAndNeverTheKey) {
  auto none = provider_.BackendFor("gamma");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("tenant 'gamma'"));

  accounts_["bad"] = {
      .api_key = "secret-key-123", .base_url = "not a url", .media_dir = "/m", .media_roots = {}};
  auto bad = provider_.BackendFor("bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("V7 settings of tenant 'bad'"));
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("secret-key-123")));
}

}  // namespace
}  // namespace labelport::backend::darwin
