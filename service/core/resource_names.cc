#include "service/core/resource_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "service/common/errors.h"
#include "service/core/limits.h"

namespace labelport::core {
namespace {

bool ValidSegment(absl::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    if (c == '/' || absl::ascii_iscntrl(c)) return false;
  }
  return true;
}

}  // namespace

bool IsValidRunKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    // Bytes of multi-byte UTF-8 sequences are treated as letters.
    const bool letter = absl::ascii_isalpha(c) || c == '_' || c >= 0x80;
    if (i == 0 ? !letter : !(letter || absl::ascii_isdigit(c))) return false;
  }
  return true;
}

absl::Status InvalidRunKeyError(absl::string_view field, absl::string_view key) {
  return common::InvalidArgument(
      field, "INVALID_RUN_KEY",
      absl::StrFormat("Invalid annotation run key '%s'. Keys must be valid variable names", key));
}

absl::StatusOr<std::string> ParseDatasetName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "datasets" || !ValidSegment(parts[1])) {
    return common::InvalidArgument(
        field, "INVALID_RESOURCE_NAME",
        absl::StrFormat("'%s' is not a dataset name of the form 'datasets/{dataset}'", name));
  }
  return std::string(parts[1]);
}

absl::StatusOr<RunName> ParseRunName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "datasets" || parts[2] != "runs" ||
      !ValidSegment(parts[1]) || !ValidSegment(parts[3])) {
    return common::InvalidArgument(
        field, "INVALID_RESOURCE_NAME",
        absl::StrFormat("'%s' is not a run name of the form 'datasets/{dataset}/runs/{anno_key}'",
                        name));
  }
  return RunName{std::string(parts[1]), std::string(parts[3])};
}

std::string FormatRunName(absl::string_view dataset, absl::string_view anno_key) {
  return absl::StrCat("datasets/", dataset, "/runs/", anno_key);
}

}  // namespace labelport::core
