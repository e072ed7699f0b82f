// Query-string and request-path normalisation for darwin-sim.
//
// V7 clients encode list parameters in several ways (see darwin-api.md §1.1):
// `key=v`, `key[]=v`, `key%5B%5D=v`, repeated keys, and `+` for spaces. All of
// them are folded into one multimap keyed by the bare name (`key`), while
// non-list bracket keys such as `page[size]` keep their brackets.
#ifndef LABELPORT_TESTS_DARWIN_SIM_QUERY_PARAMS_H_
#define LABELPORT_TESTS_DARWIN_SIM_QUERY_PARAMS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labelport::darwin_sim {

// Percent-decodes `in`; when `plus_is_space` is true a `+` becomes a space.
// Malformed escapes are kept literally (the sim never rejects a query).
std::string PercentDecode(std::string_view in, bool plus_is_space);

// Collapses runs of `/` into one and removes a trailing `/` (except for "/").
std::string NormalizePath(std::string_view path);

// Parsed query string. Thread-compatible value type.
class QueryParams {
 public:
  QueryParams() = default;
  // Parses the part after `?` (without the `?`).
  static QueryParams Parse(std::string_view query);

  // All values of `key`; `key` and `key[]` are the same list.
  std::vector<std::string> GetAll(std::string_view key) const;
  // The first value of `key`, if any.
  std::optional<std::string> Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  // Value parsed as a boolean (`true`/`1`, case-insensitive), or `fallback`.
  bool GetBool(std::string_view key, bool fallback) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  // Decoded (key, value) pairs in wire order; keys have `[]` stripped.
  std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_QUERY_PARAMS_H_
