// Small Boost.JSON field accessors shared by the V7 client and the Darwin
// JSON decoder. A JSON null counts as absent.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_JSON_FIELDS_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_JSON_FIELDS_H_

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "absl/strings/string_view.h"

namespace labelport::backend::darwin::json_fields {

inline std::string Str(const boost::json::string& s) { return std::string(s.data(), s.size()); }

// The value at `key`, or null when absent or JSON null.
inline const boost::json::value* Find(const boost::json::object& o, absl::string_view key) {
  const boost::json::value* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v == nullptr || v->is_null() ? nullptr : v;
}

inline const boost::json::object* OptObject(const boost::json::object& o, absl::string_view key) {
  const boost::json::value* v = Find(o, key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

inline const boost::json::array* OptArray(const boost::json::object& o, absl::string_view key) {
  const boost::json::value* v = Find(o, key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

}  // namespace labelport::backend::darwin::json_fields

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_JSON_FIELDS_H_
