#include "service/auth/tenants_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

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

constexpr char kSecretToken[] = "tok-acme-very-secret";
constexpr char kSecretKey[] = "abcdefg.0123456789abcdef0123456789abcdef";

std::string Hash(const std::string& token) { return common::Sha256Hex(token); }

absl::StatusOr<TenantsConfig> Parse(const std::string& text) {
  return ParseTenantsFile(text, "tenants.json", "");
}

// Every error of the parser must leave secrets out.
void ExpectNoSecrets(const absl::Status& status) {
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kSecretToken)));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(kSecretKey)));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(Hash(kSecretToken))));
}

TEST(TenantsFileTest, ParsesTenantsWithTokensIdentitiesAndAccounts) {
  auto config = Parse(absl::StrCat(R"({"tenants": [
      {"name": "acme", "description": "Acme Corp", "token_sha256": [")",
                                   Hash(kSecretToken), R"(", ")", Hash("second"), R"("],
       "client_identities": ["acme-ci", "spiffe://acme/ci"],
       "darwin": {"api_key": ")",
                                   kSecretKey, R"(", "url": "https://darwin.example"}},
      {"name": "beta.team_2", "token_sha256": [")",
                                   std::string(64, 'A'), R"("]}]})"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->tenants.size(), 2u);
  const Tenant& acme = config->tenants[0];
  EXPECT_EQ(acme.name, "acme");
  EXPECT_THAT(acme.token_sha256, ElementsAre(Hash(kSecretToken), Hash("second")));
  EXPECT_THAT(acme.client_identities, ElementsAre("acme-ci", "spiffe://acme/ci"));
  EXPECT_EQ(acme.darwin.api_key, kSecretKey);
  EXPECT_EQ(acme.darwin.url, "https://darwin.example");
  // Hashes are normalised to lower case; a tenant may have no V7 account.
  EXPECT_THAT(config->tenants[1].token_sha256, ElementsAre(std::string(64, 'a')));
  EXPECT_TRUE(config->tenants[1].darwin.api_key.empty());
}

TEST(TenantsFileTest, ReadsApiKeyFilesRelativeToTheTenantsFile) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) /
                                    ("tenants_file_test_keys_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "keys");
  std::ofstream(dir / "keys" / "acme") << "  " << kSecretKey << "\n";
  std::ofstream(dir / "tenants.json")
      << R"({"tenants": [{"name": "acme", "darwin": {"api_key_file": "keys/acme"}}]})";
  auto config = LoadTenantsFile((dir / "tenants.json").string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tenants[0].darwin.api_key, kSecretKey);

  std::ofstream(dir / "keys" / "empty") << "\n";
  std::ofstream(dir / "tenants.json")
      << R"({"tenants": [{"name": "acme", "darwin": {"api_key_file": "keys/empty"}}]})";
  auto empty = LoadTenantsFile((dir / "tenants.json").string());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("tenants[0].darwin.api_key_file names"));
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("which is empty"));

  auto missing = LoadTenantsFile((dir / "nope.json").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("the tenants file '"));
}

struct BadCase {
  std::string text;
  std::string expected;  // a substring of the error
};

TEST(TenantsFileTest, RejectsBadFilesNamingThePathAndTheRule) {
  const std::string h = Hash(kSecretToken);
  const BadCase cases[] = {
      {"not json", "the file is not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"tenants": []})", "tenants must be a non-empty array"},
      {R"({"tenant": []})", "tenant is not a known key"},
      {R"({"tenants": [{"token_sha256": []}]})", "tenants[0].name is required"},
      {R"({"tenants": [{"name": "Acme"}]})", "'Acme' is not a valid tenant name"},
      {R"({"tenants": [{"name": "../x"}]})", "is not a valid tenant name"},
      {R"({"tenants": [{"name": "a"}, {"name": "a"}]})", "tenants[1].name repeats tenant 'a'"},
      // A token where its hash belongs: refused without echoing it.
      {absl::StrCat(R"({"tenants": [{"name": "a", "token_sha256": [")", kSecretToken, R"("]}]})"),
       "tenants[0].token_sha256[0] must be the SHA-256 of a token"},
      {absl::StrCat(R"({"tenants": [{"name": "a", "token": [")", kSecretToken, R"("]}]})"),
       "tenants[0].token is not a known key"},
      {absl::StrCat(R"({"tenants": [{"name": "a", "token_sha256": [")", h,
                    R"("]}, {"name": "b", "token_sha256": [")", h, R"("]}]})"),
       "tenants[1].token_sha256[0] is already listed for tenant 'a'"},
      {R"({"tenants": [{"name": "a", "client_identities": ["x"]},
                       {"name": "b", "client_identities": ["x"]}]})",
       "tenants[1].client_identities[0] is already listed for tenant 'a'"},
      {R"({"tenants": [{"name": "a", "client_identities": [""]}]})",
       "tenants[0].client_identities[0] must be a non-empty string"},
      {absl::StrCat(R"({"tenants": [{"name": "a", "darwin": {"api_key": ")", kSecretKey,
                    R"(", "api_key_file": "/k"}}]})"),
       "tenants[0].darwin may hold api_key or api_key_file, not both"},
      {R"({"tenants": [{"name": "a", "darwin": {"url": "ftp://x"}}]})",
       "tenants[0].darwin.url must start with http:// or https://"},
      {absl::StrCat(R"({"tenants": [{"name": "a", "darwin": {"apikey": ")", kSecretKey, R"("}}]})"),
       "tenants[0].darwin.apikey is not a known key"},
      {R"({"tenants": [{"name": "a", "darwin": {"api_key_file": "/no/such/key"}}]})",
       "tenants[0].darwin.api_key_file cannot be used: the key file '/no/such/key' cannot be read"},
  };
  for (const BadCase& c : cases) {
    auto config = Parse(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("tenants file 'tenants.json'"));
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.expected)) << c.text;
    ExpectNoSecrets(config.status());
  }
}

class TenantsFileMediaRootsTest : public testing::Test {
 protected:
  void SetUp() override {
    // Per process: ctest runs this fixture's tests in parallel processes.
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("tenants_file_test_roots_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "media" / "acme");
    std::filesystem::create_directories(dir_ / "data" / "media");
    std::ofstream(dir_ / "file.txt") << "x";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<TenantsConfig> ParseRoots(const std::string& roots_json) {
    return ParseTenantsFile(
        absl::StrCat(R"({"tenants": [{"name": "acme", "media_roots": )", roots_json, "}]}"),
        "tenants.json", "", {.data_dir = (dir_ / "data").string()});
  }
  std::string P(const std::string& rel) const { return (dir_ / rel).string(); }

  std::filesystem::path dir_;
};

TEST_F(TenantsFileMediaRootsTest, ParsesAndNormalisesMediaRoots) {
  auto config =
      ParseRoots(absl::StrCat(R"([")", P("media/acme/"), R"(", ")", P("media//./"), R"("])"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->tenants[0].media_roots, ElementsAre(P("media/acme"), P("media")));
  // A tenant without media_roots has none of its own.
  auto none = Parse(R"({"tenants": [{"name": "beta"}]})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->tenants[0].media_roots.empty());
}

TEST_F(TenantsFileMediaRootsTest, RejectsBadRootsNamingTheJsonPath) {
  const BadCase cases[] = {
      {R"("/srv")", "tenants[0].media_roots must be an array of strings"},
      {R"([3])", "tenants[0].media_roots[0] must be a non-empty string"},
      {R"([""])", "tenants[0].media_roots[0] must be a non-empty string"},
      {R"(["media/acme"])", "tenants[0].media_roots[0] 'media/acme' must be an absolute"},
      {absl::StrCat(R"([")", P("media"), R"(", ")", P("media/../data"), R"("])"),
       "tenants[0].media_roots[1] '" + P("media/../data") + "' must not contain '..'"},
      {absl::StrCat(R"([")", P("nowhere"), R"("])"),
       "tenants[0].media_roots[0] '" + P("nowhere") + "' is not an existing directory"},
      {absl::StrCat(R"([")", P("file.txt"), R"("])"),
       "tenants[0].media_roots[0] '" + P("file.txt") + "' is not an existing directory"},
      {absl::StrCat(R"([")", P("data/media"), R"("])"),
       "tenants[0].media_roots[0] '" + P("data/media") + "' lies inside the data directory"},
  };
  for (const BadCase& c : cases) {
    auto config = ParseRoots(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.expected)) << c.text;
  }
  // Without a data dir to check against, only the file system is consulted.
  EXPECT_TRUE(ParseTenantsFile(absl::StrCat(R"({"tenants": [{"name": "a", "media_roots": [")",
                                            P("data/media"), R"("]}]})"),
                               "tenants.json", "")
                  .ok());
}

TEST_F(TenantsFileMediaRootsTest, RemembersWhereTheApiKeyCameFrom) {
  std::ofstream(dir_ / "acme.key") << kSecretKey << "\n";
  auto config = ParseTenantsFile(
      R"({"tenants": [{"name": "acme", "darwin": {"api_key_file": "acme.key"}},
                      {"name": "beta", "darwin": {"api_key": "inline"}}]})",
      "tenants.json", dir_.string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tenants[0].darwin.api_key_file, P("acme.key"));
  EXPECT_EQ(config->tenants[1].darwin.api_key_file, "");
}

TEST(TenantsFileTest, TenantNames) {
  for (const char* ok : {"a", "default", "acme-corp", "team.2", "x_y", "0abc"})
    EXPECT_TRUE(IsValidTenantName(ok)) << ok;
  for (const char* bad : {"", "-a", ".", "..", "a/b", "A", "a b", "ä"})
    EXPECT_FALSE(IsValidTenantName(bad)) << bad;
  EXPECT_TRUE(IsValidTenantName(std::string(63, 'a')));
  EXPECT_FALSE(IsValidTenantName(std::string(64, 'a')));
}

}  // namespace
}  // namespace labelport::auth
