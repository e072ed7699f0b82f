// ControlApi: darwin-sim's own JSON endpoints under /_sim/ (reset, teams,
// annotator actions, item status, faults, config, request log, state
// summary). See README.md for the exact shapes. No authentication: the sim
// is a test tool bound to loopback. Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_CONTROL_API_H_
#define LABELPORT_TESTS_DARWIN_SIM_CONTROL_API_H_

#include <string>
#include <vector>

#include "faults.h"
#include "http_types.h"
#include "rate_limiter.h"
#include "request_log.h"
#include "runtime_config.h"
#include "store.h"

namespace labelport::darwin_sim {

struct TeamSeed {
  std::string slug;
  std::string name;
  std::string api_key;
};

class ControlApi {
 public:
  ControlApi(Store* store, FaultRegistry* faults, RequestLog* log, RateLimiter* limiter,
             std::vector<TeamSeed> seeds);

  // Creates the seed teams. Errors: AlreadyExists for a key given twice.
  absl::Status Seed();
  // Handles a request whose path starts with /_sim/.
  SimResponse Handle(const SimRequest& req);

 private:
  SimResponse Reset();
  SimResponse CreateTeam(const SimRequest& req);
  SimResponse StateSummary();
  SimResponse Config(const SimRequest& req);
  SimResponse Faults(const SimRequest& req);
  SimResponse Requests(const SimRequest& req);
  SimResponse ItemAnnotations(const SimRequest& req, const std::string& item_id,
                              const std::string& annotation_id);
  // POST …/annotations/{id}/split {"frame"} and …/merge {"other"}.
  // POST /_sim/items/{id}/masks/paint (raster_masks.h).
  SimResponse PaintMask(const SimRequest& req, const std::string& item_id);
  SimResponse TrackEdit(const SimRequest& req, const std::string& item_id,
                        const std::string& annotation_id, const std::string& action);
  SimResponse ItemStatus(const SimRequest& req, const std::string& item_id);
  SimResponse DatasetStatus(const SimRequest& req, const std::string& dataset_id);
  SimResponse Attributes(const SimRequest& req);
  SimResponse Storage(const SimRequest& req);

  Store* store_;
  FaultRegistry* faults_;
  RequestLog* log_;
  RateLimiter* limiter_;
  std::vector<TeamSeed> seeds_;
};

// A V7-shaped API key: 7 characters, '.', 32 characters.
std::string NewApiKey();

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_CONTROL_API_H_
