// ApiRouter: maps a SimRequest on the V7 API surface (and the sim's signed
// upload/download URLs) to its handler, after checking the `ApiKey` header.
// Thread-safe; holds no state besides the route table.
#ifndef LABELPORT_TESTS_DARWIN_SIM_API_ROUTER_H_
#define LABELPORT_TESTS_DARWIN_SIM_API_ROUTER_H_

#include <string>
#include <vector>

#include "api_handlers.h"
#include "http_types.h"
#include "store.h"

namespace labelport::darwin_sim {

class ApiRouter {
 public:
  explicit ApiRouter(Store* store);

  // Handles one request. Unknown paths give 404, known paths with another
  // method 405, missing or unknown API keys 401, and a `{team}` in the path
  // that is not the key's team 403. All error bodies are JSON.
  SimResponse Handle(const SimRequest& req) const;

  // The API key in `Authorization: ApiKey <key>`, or "".
  static std::string ApiKeyOf(const SimRequest& req);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{}" captures one segment.
    bool needs_auth;
    bool team_scoped;  // Capture 0 is the team slug.
    ApiHandler handler;
  };
  void Add(std::string method, std::string pattern, ApiHandler handler, bool needs_auth = true);

  Store* store_;  // Not owned.
  std::vector<Route> routes_;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_API_ROUTER_H_
