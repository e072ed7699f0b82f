#include "request_body.h"

#include "absl/status/statusor.h"
#include "json_util.h"

namespace labelport::darwin_sim {

std::optional<SimResponse> ParseBodyNaming(std::string_view body, std::string_view member,
                                           boost::json::object* object, std::string* value) {
  absl::StatusOr<boost::json::object> parsed = ParseJsonObject(body);
  if (!parsed.ok()) return ErrorResponse(400, parsed.status().message());
  *object = *std::move(parsed);
  *value = GetString(*object, member);
  if (value->empty()) return ErrorResponse(422, std::string(member) + " is required");
  return std::nullopt;
}

}  // namespace labelport::darwin_sim
