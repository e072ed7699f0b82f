#include "service/http/endpoint_template.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/http/url.h"

namespace labelport::http {
namespace {

// V7 collection -> placeholder of the segment that follows it.
const char* PlaceholderAfter(absl::string_view collection) {
  if (collection == "teams") return "{team}";
  if (collection == "datasets") return "{dataset}";
  if (collection == "items") return "{item}";
  if (collection == "uploads") return "{upload}";
  if (collection == "exports") return "{export}";
  if (collection == "properties") return "{property}";
  if (collection == "workflows") return "{workflow}";
  if (collection == "annotation_classes") return "{class}";
  return nullptr;
}

// Fixed words of V7 paths that may follow a collection name.
bool IsKnownWord(absl::string_view segment) {
  static const char* const kWords[] = {"uploads",
                                       "register_upload",
                                       "register_existing",
                                       "sign",
                                       "confirm",
                                       "import",
                                       "archive",
                                       "unlink_dataset",
                                       "exports",
                                       "items",
                                       "properties",
                                       "workflows",
                                       "annotation_classes",
                                       "annotation_types",
                                       "datasets",
                                       "teams",
                                       "token_info",
                                       "users",
                                       "v2",
                                       "api"};
  for (const char* w : kWords) {
    if (segment == w) return true;
  }
  return false;
}

bool HasDigit(absl::string_view s) {
  for (char c : s) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

}  // namespace

std::string EndpointTemplate(absl::string_view method, absl::string_view url) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return absl::StrCat(method, " {url}");
  const absl::string_view path = parsed->path();
  if (!absl::StartsWith(path, "/api/")) return absl::StrCat(method, " {signed-url}");
  std::vector<std::string> segments = absl::StrSplit(path.substr(1), '/');
  const char* pending = nullptr;
  for (std::string& segment : segments) {
    const char* placeholder = pending;
    pending = nullptr;
    if (placeholder != nullptr && !IsKnownWord(segment)) {
      segment = placeholder;
      continue;
    }
    if (const char* next = PlaceholderAfter(segment)) {
      pending = next;
      continue;
    }
    if (!IsKnownWord(segment) && HasDigit(segment)) segment = "{id}";
  }
  return absl::StrCat(method, " /", absl::StrJoin(segments, "/"));
}

}  // namespace labelport::http
