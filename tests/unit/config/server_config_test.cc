#include "service/config/server_config.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace labelport::config
