#include "service/common/log.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labelport::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Logged(const std::function<void()>& log) {
  ::testing::internal::CaptureStderr();
  log();
  FlushLogs();
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

TEST(LogTest, WarningsAreWrittenAtOnceWithEveryLineBeforeThem) {
  SetJsonLogs(false);
  ::testing::internal::CaptureStderr();
  LogInfo("first");
  LogInfo("second");
  LogWarning("third");
  // No FlushLogs: the warning took the info lines with it.
  const std::string text = ::testing::internal::GetCapturedStderr();
  const size_t first = text.find("INFO first\n");
  const size_t second = text.find("INFO second\n");
  const size_t third = text.find("WARNING third\n");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  ASSERT_NE(third, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
}

TEST(LogTest, LinesFromManyThreadsAreWrittenWholeAndAllOfThem) {
  SetJsonLogs(false);
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  const std::string text = Logged([] {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < kLines; ++i) LogInfo(absl::StrCat("thread ", t, " line ", i));
      });
    }
    for (std::thread& thread : threads) thread.join();
  });
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line),
                ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                        "\\.[0-9]{3}Z INFO thread [0-9] line [0-9]+"));
    ++lines;
  }
  EXPECT_EQ(lines, kThreads * kLines);
}

}  // namespace
}  // namespace labelport::common
