#include "service/auth/tenant_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "service/common/sha256.h"

namespace labelport::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::string TwoTenants(const std::string& acme_token, const std::string& beta_token) {
  return absl::StrCat(R"({"tenants": [
    {"name": "acme", "token_sha256": [")",
                      common::Sha256Hex(acme_token), R"("], "client_identities": ["acme-ci"],
     "darwin": {"api_key": "acme-key", "url": "https://acme.example"}},
    {"name": "beta", "token_sha256": [")",
                      common::Sha256Hex(beta_token), R"("], "client_identities": ["beta-ci"]}]})");
}

class TenantDirectoryTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           absl::StrCat("tenant_directory_test_",
                        testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "tenants.json").string();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(TenantDirectoryTest, MapsTokensAndIdentitiesToTenants) {
  Write(path_, TwoTenants("token-a", "token-b"));
  auto directory = TenantDirectory::Load(path_);
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_THAT((*directory)->TenantForToken("token-a"), Optional(std::string("acme")));
  EXPECT_THAT((*directory)->TenantForToken("token-b"), Optional(std::string("beta")));
  EXPECT_EQ((*directory)->TenantForToken("token-c"), std::nullopt);
  EXPECT_EQ((*directory)->TenantForToken(""), std::nullopt);
  // The hash itself is not a token.
  EXPECT_EQ((*directory)->TenantForToken(common::Sha256Hex("token-a")), std::nullopt);
  EXPECT_THAT((*directory)->TenantForIdentity("acme-ci"), Optional(std::string("acme")));
  EXPECT_EQ((*directory)->TenantForIdentity("ACME-CI"), std::nullopt);
  EXPECT_THAT((*directory)->TenantNames(), ElementsAre("acme", "beta"));
}

TEST_F(TenantDirectoryTest, AccountsPerTenant) {
  Write(path_, TwoTenants("token-a", "token-b"));
  auto directory = TenantDirectory::Load(path_);
  ASSERT_TRUE(directory.ok()) << directory.status();
  auto acme = (*directory)->AccountOf("acme");
  ASSERT_TRUE(acme.ok()) << acme.status();
  EXPECT_EQ(acme->api_key, "acme-key");
  EXPECT_EQ(acme->url, "https://acme.example");
  auto beta = (*directory)->AccountOf("beta");
  EXPECT_EQ(beta.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(beta.status().message()), HasSubstr("tenant 'beta' has no V7 API key"));
  auto gone = (*directory)->AccountOf("gamma");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TenantDirectoryTest, ReloadRevokesRemovedTokensAndKeepsTenantsOnABadFile) {
  Write(path_, TwoTenants("token-a", "token-b"));
  auto loaded = TenantDirectory::Load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  TenantDirectory& directory = **loaded;

  // Same content: no change.
  EXPECT_THAT(directory.Reload(), absl::StatusOr<bool>(false));

  // token-a revoked (replaced by token-a2).
  Write(path_, TwoTenants("token-a2", "token-b"));
  EXPECT_THAT(directory.Reload(), absl::StatusOr<bool>(true));
  EXPECT_EQ(directory.TenantForToken("token-a"), std::nullopt);
  EXPECT_THAT(directory.TenantForToken("token-a2"), Optional(std::string("acme")));

  // A broken file (e.g. half-written) keeps the last good tenants.
  Write(path_, R"({"tenants": [{"name": )");
  auto failed = directory.Reload();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(failed.status().message()), Not(HasSubstr("token-a2")));
  EXPECT_THAT(directory.TenantForToken("token-a2"), Optional(std::string("acme")));
  EXPECT_THAT(directory.TenantForToken("token-b"), Optional(std::string("beta")));

  // A changed API key is a change too (a new backend gets built from it).
  Write(path_, TwoTenants("token-a2", "token-b"));
  EXPECT_THAT(directory.Reload(), absl::StatusOr<bool>(false));
  std::string rotated = TwoTenants("token-a2", "token-b");
  rotated.replace(rotated.find("acme-key"), 8, "acme-new");
  Write(path_, rotated);
  EXPECT_THAT(directory.Reload(), absl::StatusOr<bool>(true));
  EXPECT_EQ(directory.AccountOf("acme")->api_key, "acme-new");
}

TEST_F(TenantDirectoryTest, MediaRootsAndKeyFilesOfTenants) {
  std::filesystem::create_directories(dir_ / "media" / "acme");
  std::filesystem::create_directories(dir_ / "data" / "inside");
  Write(dir_ / "acme.key", "acme-key");
  Write(dir_ / "beta.key", "beta-key");
  const std::string acme_root = (dir_ / "media" / "acme").string();
  auto file = [&](const std::string& acme_roots, bool with_beta) {
    return absl::StrCat(
        R"({"tenants": [{"name": "acme", "media_roots": [")", acme_roots,
        R"("], "darwin": {"api_key_file": "acme.key"}})",
        with_beta ? R"(, {"name": "beta", "darwin": {"api_key_file": "beta.key"}})" : "", "]}");
  };
  Write(path_, file(acme_root, true));
  auto loaded = TenantDirectory::Load(path_, {.data_dir = (dir_ / "data").string()});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  TenantDirectory& directory = **loaded;
  EXPECT_THAT(directory.MediaRootsOf("acme"), ElementsAre(acme_root));
  EXPECT_TRUE(directory.MediaRootsOf("beta").empty());
  EXPECT_TRUE(directory.MediaRootsOf("gamma").empty());
  EXPECT_THAT(directory.ApiKeyFiles(),
              ElementsAre((dir_ / "acme.key").string(), (dir_ / "beta.key").string()));

  // A reload checks the roots against the data dir too, and keeps the
  // tenants when one lies inside it.
  Write(path_, file((dir_ / "data" / "inside").string(), true));
  auto refused = directory.Reload();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("lies inside the data directory"));
  EXPECT_THAT(directory.MediaRootsOf("acme"), ElementsAre(acme_root));

  // A removed tenant's key file stays one of the server's own files.
  Write(path_, file(acme_root, false));
  EXPECT_THAT(directory.Reload(), absl::StatusOr<bool>(true));
  EXPECT_THAT(directory.ApiKeyFiles(), testing::UnorderedElementsAre((dir_ / "acme.key").string(),
                                                                     (dir_ / "beta.key").string()));
}

TEST(TenantDirectoryFromConfigTest, FixedTenants) {
  TenantsConfig config;
  config.tenants.push_back({.name = "solo",
                            .token_sha256 = {common::Sha256Hex("t")},
                            .client_identities = {},
                            .media_roots = {},
                            .darwin = {}});
  auto directory = TenantDirectory::FromConfig(config);
  EXPECT_THAT(directory->TenantForToken("t"), Optional(std::string("solo")));
  EXPECT_THAT(directory->Reload(), absl::StatusOr<bool>(false));
}

}  // namespace
}  // namespace labelport::auth
