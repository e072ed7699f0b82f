#include "service/config/server_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labelport::config {
namespace {

TEST(IsLoopbackListenAddressTest, LoopbackHostsAndUnixSockets) {
  for (const char* listen : {"127.0.0.1:50051", "127.0.0.1:0", "127.1.2.3:9", "localhost:1",
                             "LOCALHOST:1", "[::1]:50051", "unix:/tmp/labelport.sock"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(listen)) << listen;
  }
}

TEST(IsLoopbackListenAddressTest, EverythingElseIsRemote) {
  for (const char* listen :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:1", "128.0.0.1:1", "127.0.0.256:1",
        "127.0.0:1", "example.com:443", "localhost.example.com:1", "127.0.0.1.nip.io:1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(listen)) << listen;
  }
}

std::optional<std::vector<std::string>> Values(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return RepeatedFlagValues(static_cast<int>(argv.size()), argv.data(), "media_root");
}

TEST(RepeatedFlagValuesTest, EveryOccurrenceAndEveryCommaSeparatedValue) {
  EXPECT_THAT(Values({"server", "--media_root=/a", "--listen", "x:1", "--media_root", "/b,/c",
                      "-media_root=/d", "-media_root", "/e, /f,"}),
              ::testing::Optional(::testing::ElementsAre("/a", "/b", "/c", "/d", "/e", "/f")));
  EXPECT_EQ(Values({"server", "--listen", "x:1"}), std::nullopt);
  // Given but empty: no roots (not the default).
  EXPECT_THAT(Values({"server", "--media_root="}), ::testing::Optional(::testing::IsEmpty()));
  // Other flags sharing the prefix, and arguments after "--", are not it.
  EXPECT_EQ(Values({"server", "--media_roots=/a", "--media_root_x", "/b", "--", "--media_root=/c"}),
            std::nullopt);
}

TEST(EffectiveMediaRootsTest, TenantRootsPlusServerRootsOrEverythingWithoutAuth) {
  ServerConfig config;
  config.auth_mode = auth::AuthMode::kNone;
  EXPECT_THAT(EffectiveMediaRoots(config, {}), ::testing::ElementsAre("/"));
  config.media_roots = {"/srv/media"};
  EXPECT_THAT(EffectiveMediaRoots(config, {}), ::testing::ElementsAre("/srv/media"));
  config.auth_mode = auth::AuthMode::kToken;
  EXPECT_THAT(EffectiveMediaRoots(config, {"/srv/acme", "/srv/media"}),
              ::testing::ElementsAre("/srv/acme", "/srv/media"));
  config.media_roots.clear();
  EXPECT_THAT(EffectiveMediaRoots(config, {}), ::testing::IsEmpty());
  EXPECT_THAT(EffectiveMediaRoots(config, {"/srv/acme"}), ::testing::ElementsAre("/srv/acme"));
}

TEST(ServerOwnFilesTest, StoreKeysTenantsAndTls) {
  ServerConfig config;
  config.sqlite_path = "/var/lib/labelport/labelport.db";
  config.darwin_api_key_file = "/etc/labelport/v7key";
  config.tenants_file = "/etc/labelport/tenants.json";
  config.tls_key = "/etc/tls/tls.key";
  config.tls_cert = "/etc/tls/tls.crt";
  EXPECT_THAT(ServerOwnFiles(config),
              ::testing::UnorderedElementsAre(
                  "/var/lib/labelport/labelport.db", "/var/lib/labelport/labelport.db-wal",
                  "/var/lib/labelport/labelport.db-shm", "/var/lib/labelport/labelport.db-journal",
                  "/etc/labelport/v7key", "/etc/labelport/tenants.json", "/etc/tls/tls.key",
                  "/etc/tls/tls.crt"));
}

}  // namespace
}  // namespace labelport::config
