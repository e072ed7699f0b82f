// Test support: the SimApp the darwin-sim request tests talk to, with one team
// ("team", named "Team") whose API key is kTeamKey, and their fixture.
#ifndef LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_
#define LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sim_app.h"

namespace labelport::darwin_sim::testing {

inline constexpr char kTeamKey[] = "ABCDEFG.0123456789abcdef0123456789abcdef";

// The fixture of those tests: app_ is a new SimApp knowing only that team.
class OneTeamAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimAppOptions options;
    options.teams.push_back({"team", "Team", kTeamKey});
    absl::StatusOr<std::unique_ptr<SimApp>> app = SimApp::Create(options);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
  }

  std::unique_ptr<SimApp> app_;
};

}  // namespace labelport::darwin_sim::testing

#endif  // LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_
