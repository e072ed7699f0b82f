// Small accessors over Boost.JSON values that never throw: a missing key or a
// value of the wrong type yields the fallback.
#ifndef LABELPORT_TESTS_DARWIN_SIM_JSON_UTIL_H_
#define LABELPORT_TESTS_DARWIN_SIM_JSON_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/json.hpp"

namespace labelport::darwin_sim {

namespace json = boost::json;

// Parses `text` as JSON. Errors: InvalidArgument naming the parse error.
absl::StatusOr<json::value> ParseJson(std::string_view text);
// Parses a request body; an empty body is `{}`. Errors as ParseJson, and
// InvalidArgument when the top level is not an object.
absl::StatusOr<json::object> ParseJsonObject(std::string_view text);

const json::value* Find(const json::object& o, std::string_view key);
std::string GetString(const json::object& o, std::string_view key, std::string_view fallback = "");
std::optional<int64_t> GetInt(const json::object& o, std::string_view key);
std::optional<double> GetNumber(const json::value& v);
bool GetBool(const json::object& o, std::string_view key, bool fallback);
// The object at `key`, or an empty object.
json::object GetObject(const json::object& o, std::string_view key);
// The array at `key`, or an empty array.
json::array GetArray(const json::object& o, std::string_view key);
// `v` as an integer (accepting integral doubles and numeric strings).
std::optional<int64_t> AsInt(const json::value& v);
// The value of `v` as JSON, or null when it has none.
template <typename T>
json::value ValueOrNull(const std::optional<T>& v) {
  return v.has_value() ? json::value(*v) : json::value(nullptr);
}

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_JSON_UTIL_H_
