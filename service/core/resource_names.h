// Resource names of the API: "datasets/{dataset}" and
// "datasets/{dataset}/runs/{anno_key}", and FiftyOne's run-key rule.
#ifndef LABELPORT_SERVICE_CORE_RESOURCE_NAMES_H_
#define LABELPORT_SERVICE_CORE_RESOURCE_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::core {

struct RunName {
  std::string dataset;
  std::string anno_key;
};

// Whether `key` is a valid run key: Python's `str.isidentifier()` (a letter or
// "_" first, then letters, digits or "_"). Non-ASCII letters and digits of the
// common scripts are accepted; malformed UTF-8, symbols and spaces are not.
bool IsValidRunKey(absl::string_view key);

// The error FiftyOne raises for an invalid key, about request field `field`.
absl::Status InvalidRunKeyError(absl::string_view field, absl::string_view key);

// Parses "datasets/{dataset}". INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> ParseDatasetName(absl::string_view name, absl::string_view field);

// Parses "datasets/{dataset}/runs/{anno_key}". The key is not validated as
// an identifier (renamed runs may carry any key FiftyOne allowed).
absl::StatusOr<RunName> ParseRunName(absl::string_view name, absl::string_view field);

std::string FormatRunName(absl::string_view dataset, absl::string_view anno_key);

}  // namespace labelport::core

#endif  // LABELPORT_SERVICE_CORE_RESOURCE_NAMES_H_
