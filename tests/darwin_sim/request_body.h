// Reading the JSON body of darwin-sim's create requests: an object that must
// name what it creates.
#ifndef LABELPORT_TESTS_DARWIN_SIM_REQUEST_BODY_H_
#define LABELPORT_TESTS_DARWIN_SIM_REQUEST_BODY_H_

#include <optional>
#include <string>
#include <string_view>

#include "boost/json.hpp"
#include "http_types.h"

namespace labelport::darwin_sim {

// Parses `body` as a JSON object (into *object) whose string member `member`
// is not empty (into *value). Returns nullopt then, else the response that
// refuses the request: 400 with the parse error for a body that is not a JSON
// object, 422 "<member> is required" for a missing or empty member.
std::optional<SimResponse> ParseBodyNaming(std::string_view body, std::string_view member,
                                           boost::json::object* object, std::string* value);

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_REQUEST_BODY_H_
