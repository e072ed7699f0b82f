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

namespace {

// Decodes one UTF-8 code point at `i`; -1 on malformed input.
int32_t DecodeUtf8(absl::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  int length = 0;
  int32_t cp = 0;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    length = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    cp = c & 0x07;
  } else {
    return -1;
  }
  if (i + length > s.size()) return -1;
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += length;
  return cp;
}

// Letters of the common scripts (an approximation of Unicode XID_Start for
// non-ASCII code points, without a Unicode database).
bool IsNonAsciiLetter(int32_t cp) {
  return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||     // Latin
         (cp >= 0x370 && cp <= 0x3FF && cp != 0x37E && cp != 0x387) ||  // Greek
         (cp >= 0x400 && cp <= 0x52F) ||                                // Cyrillic
         (cp >= 0x5D0 && cp <= 0x5EA) ||                                // Hebrew
         (cp >= 0x620 && cp <= 0x64A) ||                                // Arabic
         (cp >= 0x3041 && cp <= 0x30FF && cp != 0x30FB) ||              // Kana
         (cp >= 0x4E00 && cp <= 0x9FFF) ||                              // CJK
         (cp >= 0xAC00 && cp <= 0xD7A3);                                // Hangul
}

// Decimal digits of other scripts (identifier-continue only).
bool IsNonAsciiDigit(int32_t cp) {
  return (cp >= 0x660 && cp <= 0x669) || (cp >= 0x6F0 && cp <= 0x6F9) ||
         (cp >= 0x966 && cp <= 0x96F) || (cp >= 0xFF10 && cp <= 0xFF19);
}

}  // namespace

bool IsValidRunKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxNameLength) return false;
  size_t i = 0;
  bool first = true;
  while (i < key.size()) {
    const int32_t cp = DecodeUtf8(key, i);
    if (cp < 0) return false;
    const bool letter = (cp < 0x80 && (absl::ascii_isalpha(static_cast<char>(cp)) || cp == '_')) ||
                        IsNonAsciiLetter(cp);
    const bool digit =
        (cp < 0x80 && absl::ascii_isdigit(static_cast<char>(cp))) || IsNonAsciiDigit(cp);
    if (first ? !letter : !(letter || digit)) return false;
    first = false;
  }
  return true;
}

absl::Status InvalidRunKeyError(absl::string_view field, absl::string_view key) {
  return common::InvalidArgument(
      field, "INVALID_RUN_KEY",
      absl::StrFormat("Invalid annotation run key '%s'. Keys must be valid variable names",
                      common::Excerpt(key)));
}

absl::StatusOr<std::string> ParseDatasetName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "datasets" || !ValidSegment(parts[1])) {
    return common::InvalidArgument(
        field, "INVALID_RESOURCE_NAME",
        absl::StrFormat("'%s' is not a dataset name of the form 'datasets/{dataset}'",
                        common::Excerpt(name)));
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
                        common::Excerpt(name)));
  }
  return RunName{std::string(parts[1]), std::string(parts[3])};
}

std::string FormatRunName(absl::string_view dataset, absl::string_view anno_key) {
  return absl::StrCat("datasets/", dataset, "/runs/", anno_key);
}

}  // namespace labelport::core
