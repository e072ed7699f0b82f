#include "service/common/log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Logged(const std::function<void()>& log) {
  ::testing::internal::CaptureStderr();
  log();
  return ::testing::internal::GetCapturedStderr();
}

TEST(LogTest, JsonLinesCarryTheRequestIdOfTheScope) {
  SetJsonLogs(true);
  const std::string inside = Logged([] {
    ScopedRequestId scope("req-42");
    LogInfo("created run \"a\"");
  });
  EXPECT_THAT(inside, ::testing::StartsWith(R"({"time":")"));
  EXPECT_THAT(inside, ::testing::EndsWith(
                          R"(","level":"INFO","message":"created run \"a\"","request_id":"req-42"})"
                          "\n"));
  const std::string outside = Logged([] { LogInfo("no request"); });
  EXPECT_THAT(outside, Not(HasSubstr("request_id")));
  SetJsonLogs(false);
}

TEST(LogTest, ScopesNestAndExplicitIdsWin) {
  SetJsonLogs(false);
  const std::string text = Logged([] {
    ScopedRequestId outer("outer");
    {
      ScopedRequestId inner("inner");
      EXPECT_EQ(CurrentRequestId(), "inner");
    }
    EXPECT_EQ(CurrentRequestId(), "outer");
    Log(LogLevel::kWarning, "explicit", "given");
  });
  EXPECT_THAT(text, HasSubstr("WARNING explicit request_id=given\n"));
  EXPECT_EQ(CurrentRequestId(), "");
}

}  // namespace
}  // namespace labelport::common
