#include "request_log.h"

#include "gtest/gtest.h"

namespace labelport::darwin_sim {
namespace {

TEST(RequestLogTest, RedactsAuthorizationAndPages) {
  RequestLog log(2);
  for (int i = 0; i < 3; ++i) {
    LoggedRequest e;
    e.method = "GET";
    e.path = "/p" + std::to_string(i);
    e.headers["authorization"] = "ApiKey SECRET.0123";
    e.status = 200;
    log.Add(e);
  }
  boost::json::array all = log.ToJson(0, 100);
  ASSERT_EQ(all.size(), 2u);  // Capacity drops the oldest.
  EXPECT_EQ(all[0].at("path"), "/p1");
  EXPECT_EQ(all[0].at("headers").at("authorization"), "ApiKey <redacted>");
  EXPECT_EQ(boost::json::serialize(all).find("SECRET"), std::string::npos);
  EXPECT_EQ(log.ToJson(2, 100).size(), 1u);
  EXPECT_EQ(RedactAuthorization("token"), "<redacted>");
}

}  // namespace
}  // namespace labelport::darwin_sim
