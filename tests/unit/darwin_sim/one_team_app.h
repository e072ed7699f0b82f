// Test support: the SimApp the darwin-sim request tests talk to, with one team
// ("team", named "Team") whose API key is kTeamKey.
#ifndef LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_
#define LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "sim_app.h"

namespace labelport::darwin_sim::testing {

inline constexpr char kTeamKey[] = "ABCDEFG.0123456789abcdef0123456789abcdef";

// A new SimApp knowing only that team.
inline absl::StatusOr<std::unique_ptr<SimApp>> CreateOneTeamApp() {
  SimAppOptions options;
  options.teams.push_back({"team", "Team", kTeamKey});
  return SimApp::Create(options);
}

}  // namespace labelport::darwin_sim::testing

#endif  // LABELPORT_TESTS_UNIT_DARWIN_SIM_ONE_TEAM_APP_H_
