#include "service/core/readiness_monitor.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/common/fake_metrics.h"

namespace labelport::core {
namespace {

TEST(ReadinessMonitorTest, ReadyWhileTheStoreAnswersWhateverV7Does) {
  absl::Status store_status = absl::OkStatus();
  absl::Status v7_status = absl::OkStatus();
  std::vector<bool> changes;
  testing::FakeMetrics metrics;
  ReadinessMonitor monitor(
      {{"store", [&] { return store_status; }},
       {"v7", [&] { return v7_status; }, /*required_for_readiness=*/false}},
      [&changes](bool ready) { changes.push_back(ready); }, &metrics);
  EXPECT_FALSE(monitor.ready());

  EXPECT_TRUE(monitor.CheckNow());
  EXPECT_TRUE(monitor.CheckNow());  // no change, no callback
  EXPECT_EQ(changes, (std::vector<bool>{true}));
  EXPECT_EQ(metrics.dependencies(), (std::map<std::string, bool>{{"store", true}, {"v7", true}}));

  // A V7 outage shows in the metric only.
  v7_status = absl::UnavailableError("connection refused");
  EXPECT_TRUE(monitor.CheckNow());
  EXPECT_TRUE(monitor.ready());
  EXPECT_EQ(metrics.dependencies(), (std::map<std::string, bool>{{"store", true}, {"v7", false}}));

  store_status = absl::UnavailableError("disk I/O error");
  EXPECT_FALSE(monitor.CheckNow());
  EXPECT_FALSE(monitor.ready());
  EXPECT_EQ(metrics.dependencies(), (std::map<std::string, bool>{{"store", false}, {"v7", false}}));

  store_status = absl::OkStatus();
  EXPECT_TRUE(monitor.CheckNow());
  v7_status = absl::OkStatus();
  EXPECT_TRUE(monitor.CheckNow());
  EXPECT_EQ(metrics.dependencies(), (std::map<std::string, bool>{{"store", true}, {"v7", true}}));
  EXPECT_EQ(changes, (std::vector<bool>{true, false, true}));
}

TEST(ReadinessMonitorTest, EveryRequiredCheckMustPass) {
  absl::Status a = absl::OkStatus();
  ReadinessMonitor monitor(
      {{"store", [] { return absl::OkStatus(); }}, {"other", [&] { return a; }}}, nullptr);
  EXPECT_TRUE(monitor.CheckNow());
  a = absl::UnavailableError("down");
  EXPECT_FALSE(monitor.CheckNow());
}

TEST(ReadinessMonitorTest, TheFirstCheckAlwaysReports) {
  std::vector<bool> changes;
  ReadinessMonitor monitor({{"store", [] { return absl::InternalError("broken"); }}},
                           [&changes](bool ready) { changes.push_back(ready); });
  EXPECT_FALSE(monitor.CheckNow());
  EXPECT_EQ(changes, (std::vector<bool>{false}));
}

}  // namespace
}  // namespace labelport::core
