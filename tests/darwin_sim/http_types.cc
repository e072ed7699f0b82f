#include "http_types.h"

namespace labelport::darwin_sim {

SimResponse JsonResponse(int status, const boost::json::value& value) {
  SimResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = boost::json::serialize(value);
  return r;
}

SimResponse ErrorResponse(int status, absl::string_view message) {
  boost::json::object errors;
  errors["message"] = std::string(message);
  return JsonResponse(status, boost::json::object{{"errors", std::move(errors)}});
}

SimResponse NameTakenResponse() {
  boost::json::array taken;
  taken.emplace_back("has already been taken");
  boost::json::object errors;
  errors["name"] = std::move(taken);
  return JsonResponse(422, boost::json::object{{"errors", std::move(errors)}});
}

}  // namespace labelport::darwin_sim
