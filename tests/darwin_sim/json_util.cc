#include "json_util.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace labelport::darwin_sim {

absl::StatusOr<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", ec.message()));
  }
  return v;
}

absl::StatusOr<json::object> ParseJsonObject(std::string_view text) {
  bool blank = true;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') blank = false;
  }
  if (blank) return json::object();
  absl::StatusOr<json::value> v = ParseJson(text);
  if (!v.ok()) return v.status();
  if (!v->is_object()) return absl::InvalidArgumentError("JSON body is not an object");
  return std::move(v->as_object());
}

const json::value* Find(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::string GetString(const json::object& o, std::string_view key, std::string_view fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  return std::string(v->as_string());
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.as_uint64());
  if (v.is_double()) {
    const double d = v.as_double();
    if (std::floor(d) == d) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    int64_t out = 0;
    if (absl::SimpleAtoi(absl::string_view(v.as_string().data(), v.as_string().size()), &out)) {
      return out;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> GetInt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  return AsInt(*v);
}

std::optional<double> GetNumber(const json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return std::nullopt;
}

bool GetBool(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_bool()) return v->as_bool();
  if (v->is_string()) return v->as_string() == "true";
  return fallback;
}

json::object GetObject(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) return json::object();
  return v->as_object();
}

json::array GetArray(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return json::array();
  return v->as_array();
}

}  // namespace labelport::darwin_sim
