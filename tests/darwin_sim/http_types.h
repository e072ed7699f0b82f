// Transport-neutral request and response values passed between darwin-sim's
// HTTP server and its handlers, so handlers can be tested without sockets.
#ifndef LABELPORT_TESTS_DARWIN_SIM_HTTP_TYPES_H_
#define LABELPORT_TESTS_DARWIN_SIM_HTTP_TYPES_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "boost/json.hpp"
#include "query_params.h"

namespace labelport::darwin_sim {

struct SimRequest {
  std::string method;     // Upper case: "GET", "POST", ...
  std::string path;       // Decoded, normalised (see NormalizePath).
  std::string raw_query;  // As received, without the `?`.
  QueryParams query;
  // Header names are lower case.
  std::map<std::string, std::string> headers;
  std::string body;
  // Absolute base URL the client used, e.g. "http://127.0.0.1:8080".
  std::string base_url;

  // Header value or "" when absent; `name` must be lower case.
  std::string Header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string() : it->second;
  }
};

struct SimResponse {
  int status = 200;
  std::string content_type;  // Empty: no Content-Type header.
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// 2xx/4xx/5xx JSON response with `value` serialised as the body.
SimResponse JsonResponse(int status, const boost::json::value& value);
// JSON error body `{"errors": {"message": message}}` with `status`.
SimResponse ErrorResponse(int status, absl::string_view message);
// 422 `{"errors": {"name": ["has already been taken"]}}` (SDK's NameTaken).
SimResponse NameTakenResponse();

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_HTTP_TYPES_H_
