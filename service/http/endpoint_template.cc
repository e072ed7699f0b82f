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

// The V7 paths labelport calls (DarwinClient), as templates: the only
// values an /api/ endpoint label can take.
bool IsKnownTemplate(absl::string_view path) {
  static const char* const kTemplates[] = {
      "/api/users/token_info",
      "/api/datasets",
      "/api/datasets/{dataset}/archive",
      "/api/annotation_types",
      "/api/annotation_classes",
      "/api/annotation_classes/{class}",
      "/api/teams/{team}/annotation_classes",
      "/api/v2/teams/{team}/items",
      "/api/v2/teams/{team}/items/register_upload",
      "/api/v2/teams/{team}/items/register_existing",
      "/api/v2/teams/{team}/items/uploads/{upload}/sign",
      "/api/v2/teams/{team}/items/uploads/{upload}/confirm",
      "/api/v2/teams/{team}/items/{item}/import",
      "/api/v2/teams/{team}/properties",
      "/api/v2/teams/{team}/properties/{property}",
      "/api/v2/teams/{team}/datasets/{dataset}/exports",
      "/api/v2/teams/{team}/datasets/{dataset}/exports/{export}",
      "/api/v2/teams/{team}/workflows",
      "/api/v2/teams/{team}/workflows/{workflow}",
      "/api/v2/teams/{team}/workflows/{workflow}/unlink_dataset",
  };
  for (const char* t : kTemplates) {
    if (path == t) return true;
  }
  return false;
}

// HTTP methods labelport sends; anything else is "OTHER".
absl::string_view KnownMethod(absl::string_view method) {
  for (absl::string_view m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    if (method == m) return m;
  }
  return "OTHER";
}

bool HasDigit(absl::string_view s) {
  for (char c : s) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

}  // namespace

std::string EndpointTemplate(absl::string_view raw_method, absl::string_view url) {
  const absl::string_view method = KnownMethod(raw_method);
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
  const std::string tmpl = absl::StrCat("/", absl::StrJoin(segments, "/"));
  if (!IsKnownTemplate(tmpl)) return absl::StrCat(method, " {other}");
  return absl::StrCat(method, " ", tmpl);
}

}  // namespace labelport::http
