#include "service/backend/darwin/darwin_client.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "service/backend/darwin/json_fields.h"
#include "service/common/sha256.h"
#include "service/common/status_macros.h"
#include "service/http/url.h"

namespace labelport::backend::darwin {
namespace {

namespace json = boost::json;
using json_fields::Find;
using json_fields::OptArray;
using json_fields::OptObject;
using json_fields::Str;

// SDK values (darwin-api.md §1.5, §2.5, §6.3).
constexpr int kItemPageSize = 500;
constexpr size_t kMaxIdsPerItemQuery = 100;
constexpr size_t kMaxItemQueryUrlChars = 2000;
// Room left in an item-listing URL for "&page[from]=<cursor>".
constexpr size_t kPageCursorReserve = 100;
constexpr size_t kImportPayloadLimitBytes = 32'000'000;
constexpr size_t kMaxReasonChars = 200;
// A bound on pagination, against a server that never ends a listing.
constexpr int kMaxPages = 100'000;

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 percent-encoding of everything but unreserved characters; used
// for query values and path segments alike.
std::string PercentEncode(absl::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

void AddQuery(std::string& query, absl::string_view key, absl::string_view value) {
  if (!query.empty()) query.push_back('&');
  absl::StrAppend(&query, key, "=", PercentEncode(value));
}

// The path of an absolute URL, without scheme, host and query (errors about
// signed URLs must not carry their signature).
std::string UrlPath(absl::string_view url) {
  size_t scheme = url.find("://");
  absl::string_view rest = scheme == absl::string_view::npos ? url : url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return "/";
  absl::string_view path = rest.substr(slash);
  path = path.substr(0, path.find_first_of("?#"));
  return std::string(path);
}

bool IsHttpUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return false;
  }
  return !rest.empty() && rest.front() != '/';
}

// "/a//b/" -> "/a/b"; "" -> "/". V7 compares item paths normalised (§6.1).
std::string NormalizeItemPath(absl::string_view path) {
  std::string out = "/";
  for (char c : path) {
    if (c == '/' && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// Cuts at `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string ReplaceAll(const std::string& s, absl::string_view from, absl::string_view to) {
  if (from.empty()) return s;
  return absl::StrReplaceAll(s, {{from, to}});
}

// A short human reason from a JSON error body: V7's {"errors": {"name":
// ["has already been taken"]}} becomes "name: has already been taken".
// Non-JSON bodies (HTML pages, S3 XML with signing details) give nothing.
std::string ShortReason(absl::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec) return "";
  auto render = [](const json::value& x) -> std::string {
    if (x.is_string()) return Str(x.get_string());
    return json::serialize(x);
  };
  if (v.is_object()) {
    const json::object& o = v.get_object();
    for (absl::string_view key : {"errors", "error", "message", "detail"}) {
      const json::value* e = o.if_contains(json::string_view(key.data(), key.size()));
      if (e == nullptr) continue;
      if (e->is_object()) {
        std::vector<std::string> parts;
        for (const auto& [k, val] : e->get_object()) {
          std::string what;
          if (val.is_array()) {
            std::vector<std::string> items;
            for (const json::value& item : val.get_array()) items.push_back(render(item));
            what = absl::StrJoin(items, ", ");
          } else {
            what = render(val);
          }
          parts.push_back(absl::StrCat(absl::string_view(k.data(), k.size()), ": ", what));
        }
        return absl::StrJoin(parts, "; ");
      }
      return render(*e);
    }
  }
  return render(v);
}

absl::StatusCode CodeForHttpStatus(int status, absl::string_view body) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 413:
      return absl::StatusCode::kResourceExhausted;
    case 422:
      return absl::StrContains(absl::AsciiStrToLower(body), "has already been taken") ||
                     absl::StrContains(absl::AsciiStrToLower(body), "already exists")
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kInvalidArgument;
    case 429:
      // A storage quota is not cured by waiting (§1.6).
      return absl::StrContains(body, "INSUFFICIENT_REMAINING_STORAGE")
                 ? absl::StatusCode::kResourceExhausted
                 : absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return absl::StatusCode::kUnavailable;
  if (status >= 400 && status <= 499) return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kUnknown;
}

// "V7 <METHOD> <path>", the prefix of every error message.
std::string Where(absl::string_view method, absl::string_view path) {
  return absl::StrCat("V7 ", method, " ", path);
}

absl::Status HttpStatusError(absl::string_view method, absl::string_view path,
                             const http::HttpResponse& response, absl::string_view api_key) {
  std::string reason =
      Truncate(ReplaceAll(ShortReason(response.body), api_key, "<redacted>"), kMaxReasonChars);
  std::string message = absl::StrCat(Where(method, path), ": ", response.status);
  if (!reason.empty()) absl::StrAppend(&message, " ", reason);
  return absl::Status(CodeForHttpStatus(response.status, response.body), message);
}

// ---- Defensive JSON reading. `where` is "V7 <METHOD> <path>", `field` the
// path of the value inside the response, e.g. "items[3].id".

absl::Status FieldError(absl::string_view where, absl::string_view field, absl::string_view what) {
  return absl::InternalError(absl::StrCat(where, ": response field '", field, "' ", what));
}

std::string Sub(absl::string_view prefix, absl::string_view key) {
  return prefix.empty() ? std::string(key) : absl::StrCat(prefix, ".", key);
}

std::string Index(absl::string_view prefix, size_t i) { return absl::StrCat(prefix, "[", i, "]"); }

std::optional<int64_t> AsInt(const json::value& v, bool allow_double) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (allow_double && v.is_double()) {
    double d = v.get_double();
    if (d >= -9.0e15 && d <= 9.0e15) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

absl::StatusOr<const json::object*> RequireObject(const json::value& v, absl::string_view where,
                                                  absl::string_view field) {
  if (!v.is_object()) {
    return FieldError(where, field.empty() ? "<body>" : field, "is not an object");
  }
  return &v.get_object();
}

absl::StatusOr<const json::array*> RequireArray(const json::value& v, absl::string_view where,
                                                absl::string_view field) {
  if (!v.is_array()) return FieldError(where, field.empty() ? "<body>" : field, "is not an array");
  return &v.get_array();
}

absl::StatusOr<const json::array*> RequireArrayField(const json::object& o, absl::string_view key,
                                                     absl::string_view where,
                                                     absl::string_view prefix) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_array()) {
    return FieldError(where, Sub(prefix, key), "is missing or not an array");
  }
  return &v->get_array();
}

absl::StatusOr<std::string> RequireString(const json::object& o, absl::string_view key,
                                          absl::string_view where, absl::string_view prefix) {
  const json::value* v = Find(o, key);
  if (v == nullptr || !v->is_string()) {
    return FieldError(where, Sub(prefix, key), "is missing or not a string");
  }
  return Str(v->get_string());
}

absl::StatusOr<int64_t> RequireId(const json::object& o, absl::string_view key,
                                  absl::string_view where, absl::string_view prefix) {
  const json::value* v = Find(o, key);
  std::optional<int64_t> id = v == nullptr ? std::nullopt : AsInt(*v, /*allow_double=*/false);
  if (!id.has_value()) return FieldError(where, Sub(prefix, key), "is missing or not an integer");
  if (*id <= 0) return FieldError(where, Sub(prefix, key), "is not a positive id");
  return *id;
}

// Optional fields: absent, null or of another type all read as "not set".
std::string OptString(const json::object& o, absl::string_view key, std::string fallback = "") {
  const json::value* v = Find(o, key);
  return v != nullptr && v->is_string() ? Str(v->get_string()) : std::move(fallback);
}

std::optional<int64_t> OptInt(const json::object& o, absl::string_view key) {
  const json::value* v = Find(o, key);
  return v == nullptr ? std::nullopt : AsInt(*v, /*allow_double=*/true);
}

std::optional<double> OptNumber(const json::object& o, absl::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (std::optional<int64_t> i = AsInt(*v, false)) return static_cast<double>(*i);
  return std::nullopt;
}

bool OptBool(const json::object& o, absl::string_view key, bool fallback) {
  const json::value* v = Find(o, key);
  return v != nullptr && v->is_bool() ? v->get_bool() : fallback;
}

// Ids per E32 call, as the SDK's batches.
constexpr size_t kDeleteItemsChunk = 500;

absl::StatusOr<DarwinExport> ParseExport(const json::value& v, absl::string_view where,
                                         absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinExport e;
  LP_ASSIGN_OR_RETURN(e.name, RequireString(*o, "name", where, field));
  e.status = OptString(*o, "status");
  e.version = OptInt(*o, "version").value_or(0);
  if (const json::value* url = Find(*o, "download_url")) {
    if (!url->is_string()) return FieldError(where, Sub(field, "download_url"), "is not a string");
    e.download_url = Str(url->get_string());
  }
  return e;
}

absl::StatusOr<DarwinWorkflow> ParseWorkflow(const json::value& v, absl::string_view where,
                                             absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinWorkflow w;
  LP_ASSIGN_OR_RETURN(w.id, RequireString(*o, "id", where, field));
  w.name = OptString(*o, "name");
  if (const json::value* dataset = Find(*o, "dataset")) {
    std::string at = Sub(field, "dataset");
    LP_ASSIGN_OR_RETURN(const json::object* d, RequireObject(*dataset, where, at));
    LP_ASSIGN_OR_RETURN(w.dataset_id, RequireId(*d, "id", where, at));
  }
  return w;
}

absl::StatusOr<DarwinDataset> ParseDataset(const json::value& v, absl::string_view where,
                                           absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinDataset ds;
  LP_ASSIGN_OR_RETURN(ds.id, RequireId(*o, "id", where, field));
  LP_ASSIGN_OR_RETURN(ds.slug, RequireString(*o, "slug", where, field));
  ds.name = OptString(*o, "name", ds.slug);
  return ds;
}

absl::StatusOr<DarwinClass> ParseClass(const json::value& v, absl::string_view where,
                                       absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinClass cls;
  LP_ASSIGN_OR_RETURN(cls.id, RequireId(*o, "id", where, field));
  LP_ASSIGN_OR_RETURN(cls.name, RequireString(*o, "name", where, field));
  if (const json::array* types = OptArray(*o, "annotation_types")) {
    for (const json::value& t : *types) {
      if (t.is_string()) cls.annotation_types.push_back(Str(t.get_string()));
    }
  }
  if (const json::array* datasets = OptArray(*o, "datasets")) {
    for (size_t i = 0; i < datasets->size(); ++i) {
      const json::value& d = (*datasets)[i];
      std::string at = Index(Sub(field, "datasets"), i);
      LP_ASSIGN_OR_RETURN(const json::object* dobj, RequireObject(d, where, at));
      LP_ASSIGN_OR_RETURN(int64_t id, RequireId(*dobj, "id", where, at));
      cls.dataset_ids.push_back(id);
    }
  }
  return cls;
}

absl::StatusOr<DarwinProperty> ParseProperty(const json::value& v, absl::string_view where,
                                             absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinProperty p;
  LP_ASSIGN_OR_RETURN(p.id, RequireString(*o, "id", where, field));
  LP_ASSIGN_OR_RETURN(p.name, RequireString(*o, "name", where, field));
  LP_ASSIGN_OR_RETURN(p.type, RequireString(*o, "type", where, field));
  p.granularity = OptString(*o, "granularity");
  p.required = OptBool(*o, "required", false);
  if (const json::value* cid = Find(*o, "annotation_class_id")) {
    std::optional<int64_t> id = AsInt(*cid, false);
    if (!id.has_value()) {
      return FieldError(where, Sub(field, "annotation_class_id"), "is not an integer");
    }
    // 0 is no class id (§1.4); treat it like null, as DFO's falsy test does.
    if (*id != 0) p.annotation_class_id = *id;
  }
  if (const json::array* ids = OptArray(*o, "dataset_ids")) {
    for (size_t i = 0; i < ids->size(); ++i) {
      std::optional<int64_t> id = AsInt((*ids)[i], false);
      if (!id.has_value()) {
        return FieldError(where, Index(Sub(field, "dataset_ids"), i), "is not an integer");
      }
      p.dataset_ids.push_back(*id);
    }
  }
  if (const json::array* values = OptArray(*o, "property_values")) {
    for (size_t i = 0; i < values->size(); ++i) {
      std::string at = Index(Sub(field, "property_values"), i);
      LP_ASSIGN_OR_RETURN(const json::object* vo, RequireObject((*values)[i], where, at));
      DarwinPropertyValue value;
      LP_ASSIGN_OR_RETURN(value.id, RequireString(*vo, "id", where, at));
      LP_ASSIGN_OR_RETURN(value.value, RequireString(*vo, "value", where, at));
      p.values.push_back(std::move(value));
    }
  }
  return p;
}

absl::StatusOr<DarwinItem> ParseItem(const json::value& v, absl::string_view where,
                                     absl::string_view field) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(v, where, field));
  DarwinItem item;
  LP_ASSIGN_OR_RETURN(item.id, RequireString(*o, "id", where, field));
  LP_ASSIGN_OR_RETURN(item.name, RequireString(*o, "name", where, field));
  LP_ASSIGN_OR_RETURN(item.status, RequireString(*o, "status", where, field));
  item.path = NormalizeItemPath(OptString(*o, "path", "/"));
  item.processing_status = OptString(*o, "processing_status");
  if (const json::array* slots = OptArray(*o, "slots")) {
    for (size_t i = 0; i < slots->size(); ++i) {
      std::string at = Index(Sub(field, "slots"), i);
      LP_ASSIGN_OR_RETURN(const json::object* so, RequireObject((*slots)[i], where, at));
      DarwinSlot slot;
      slot.slot_name = OptString(*so, "slot_name");
      slot.type = OptString(*so, "type");
      slot.file_name = OptString(*so, "file_name");
      static const json::object kEmpty;
      const json::object* meta = OptObject(*so, "metadata");
      const json::object& m = meta != nullptr ? *meta : kEmpty;
      slot.width = OptInt(*so, "width").value_or(OptInt(m, "width").value_or(0));
      slot.height = OptInt(*so, "height").value_or(OptInt(m, "height").value_or(0));
      double fps = OptNumber(*so, "fps").value_or(0);
      if (fps <= 0) fps = OptNumber(m, "fps").value_or(0);
      if (fps <= 0) fps = OptNumber(m, "native_fps").value_or(0);
      slot.fps = fps;
      // V7 lists a video's frames as `total_sections` (darwin-api E21).
      slot.frame_count =
          OptInt(*so, "frame_count")
              .value_or(OptInt(*so, "total_sections")
                            .value_or(OptInt(m, "frame_count")
                                          .value_or(OptInt(m, "total_frames").value_or(0))));
      item.slots.push_back(std::move(slot));
    }
  }
  if (const json::array* uploads = OptArray(*o, "uploads")) {
    for (const json::value& u : *uploads) {
      if (!u.is_object()) continue;
      std::string id = OptString(u.get_object(), "upload_id");
      if (!id.empty()) item.pending_upload_ids.push_back(std::move(id));
    }
  }
  return item;
}

// One entry of an E23/E28 response ("items" or "blocked_items").
struct RegistrationEntry {
  std::string name;
  std::optional<std::string> path;  // E28 answers may omit it
  RegisteredItem result;
  bool used = false;
};

absl::Status ParseRegistrationEntries(const json::object& body, absl::string_view key, bool blocked,
                                      bool expect_upload_id, absl::string_view where,
                                      std::vector<RegistrationEntry>& out) {
  const json::array* entries = OptArray(body, key);
  if (entries == nullptr) {
    if (blocked) return absl::OkStatus();
    return FieldError(where, key, "is missing or not an array");
  }
  for (size_t i = 0; i < entries->size(); ++i) {
    std::string at = Index(key, i);
    LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject((*entries)[i], where, at));
    RegistrationEntry e;
    LP_ASSIGN_OR_RETURN(e.name, RequireString(*o, "name", where, at));
    if (const json::value* p = Find(*o, "path"); p != nullptr && p->is_string()) {
      e.path = NormalizeItemPath(Str(p->get_string()));
    }
    e.result.name = e.name;
    e.result.path = e.path.value_or("");
    const json::array* slots = OptArray(*o, "slots");
    const json::object* slot0 = slots != nullptr && !slots->empty() && (*slots)[0].is_object()
                                    ? &(*slots)[0].get_object()
                                    : nullptr;
    if (blocked) {
      e.result.item_id = OptString(*o, "id");
      e.result.blocked_reason = slot0 != nullptr ? OptString(*slot0, "reason") : "";
      if (e.result.blocked_reason.empty()) e.result.blocked_reason = OptString(*o, "reason");
      if (e.result.blocked_reason.empty()) e.result.blocked_reason = "BLOCKED";
    } else {
      LP_ASSIGN_OR_RETURN(e.result.item_id, RequireString(*o, "id", where, at));
      if (expect_upload_id) {
        if (slot0 == nullptr) return FieldError(where, Sub(at, "slots"), "is missing or empty");
        LP_ASSIGN_OR_RETURN(e.result.upload_id,
                            RequireString(*slot0, "upload_id", where, Sub(at, "slots[0]")));
      }
    }
    out.push_back(std::move(e));
  }
  return absl::OkStatus();
}

// Puts an E23/E28 answer into request order, matching (path, name).
absl::StatusOr<std::vector<RegisteredItem>> MatchRegistrations(
    const json::value& body_value, const std::vector<ItemRegistration>& request,
    bool expect_upload_id, absl::string_view where) {
  LP_ASSIGN_OR_RETURN(const json::object* body, RequireObject(body_value, where, ""));
  std::vector<RegistrationEntry> entries;
  if (absl::Status s =
          ParseRegistrationEntries(*body, "items", false, expect_upload_id, where, entries);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ParseRegistrationEntries(*body, "blocked_items", true, false, where, entries);
      !s.ok()) {
    return s;
  }
  std::vector<RegisteredItem> out;
  out.reserve(request.size());
  for (const ItemRegistration& item : request) {
    const std::string path = NormalizeItemPath(item.path);
    RegistrationEntry* match = nullptr;
    for (RegistrationEntry& e : entries) {
      if (e.used || e.name != item.name) continue;
      if (e.path.has_value() && *e.path != path) continue;
      match = &e;
      break;
    }
    if (match == nullptr) {
      return absl::InternalError(absl::StrCat(where, ": the response has no entry for item '",
                                              path == "/" ? "" : path, "/", item.name, "'"));
    }
    match->used = true;
    RegisteredItem r = match->result;
    r.path = path;
    out.push_back(std::move(r));
  }
  return out;
}

// Deterministic colour for a property value (FNV-1a of the text), so the
// same value gets the same colour in every run.
std::string ValueColor(absl::string_view value) {
  uint32_t h = 2166136261u;
  for (unsigned char c : value) {
    h ^= c;
    h *= 16777619u;
  }
  return absl::StrCat("rgba(", (h >> 16) & 0xFF, ",", (h >> 8) & 0xFF, ",", h & 0xFF, ",1.0)");
}

json::array PropertyValuesJson(const std::vector<std::string>& values) {
  json::array out;
  for (const std::string& v : values) {
    json::object o;
    o["type"] = "string";
    o["value"] = v;
    o["color"] = ValueColor(v);
    out.push_back(std::move(o));
  }
  return out;
}

// Serialised E35 body. `overwrite` is the SDK's string form for the first
// payload and the JSON boolean false for later split payloads (§6.3).
std::string ImportBody(json::array annotations, const json::value& overwrite) {
  json::object body;
  body["annotations"] = std::move(annotations);
  body["overwrite"] = overwrite;
  return json::serialize(body);
}

// Splits `annotations` into groups whose payloads stay under `limit` bytes.
absl::StatusOr<std::vector<json::array>> SplitAnnotations(const json::array& annotations,
                                                          size_t limit, absl::string_view where) {
  // {"annotations":[...],"overwrite":"false"} around the elements.
  const size_t envelope = ImportBody(json::array(), json::value("false")).size();
  std::vector<json::array> out;
  json::array current;
  size_t current_size = envelope;
  for (size_t i = 0; i < annotations.size(); ++i) {
    const size_t size = json::serialize(annotations[i]).size();
    if (envelope + size >= limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat(where, ": annotation ", i, " alone is ", size,
                       " bytes of JSON, over the import payload limit"));
    }
    const size_t separator = current.empty() ? 0 : 1;
    if (current_size + separator + size >= limit) {
      out.push_back(std::move(current));
      current = json::array();
      current_size = envelope;
    }
    current_size += (current.empty() ? 0 : 1) + size;
    current.push_back(annotations[i]);
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

// ---- Listings (E4, E11, E16, E39), parsed.

absl::StatusOr<std::vector<DarwinDataset>> ParseDatasetList(const json::value& body,
                                                            absl::string_view where) {
  LP_ASSIGN_OR_RETURN(const json::array* list, RequireArray(body, where, ""));
  std::vector<DarwinDataset> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const json::value& v = (*list)[i];
    if (v.is_object() && OptBool(v.get_object(), "archived", false)) continue;
    LP_ASSIGN_OR_RETURN(DarwinDataset ds, ParseDataset(v, where, Index("", i)));
    out.push_back(std::move(ds));
  }
  return out;
}

absl::StatusOr<std::vector<DarwinClass>> ParseClassList(const json::value& body,
                                                        absl::string_view where) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(body, where, ""));
  LP_ASSIGN_OR_RETURN(const json::array* list,
                      RequireArrayField(*o, "annotation_classes", where, ""));
  std::vector<DarwinClass> out;
  for (size_t i = 0; i < list->size(); ++i) {
    LP_ASSIGN_OR_RETURN(DarwinClass cls,
                        ParseClass((*list)[i], where, Index("annotation_classes", i)));
    out.push_back(std::move(cls));
  }
  return out;
}

absl::StatusOr<std::vector<DarwinProperty>> ParsePropertyList(const json::value& body,
                                                              absl::string_view where) {
  LP_ASSIGN_OR_RETURN(const json::object* o, RequireObject(body, where, ""));
  LP_ASSIGN_OR_RETURN(const json::array* list, RequireArrayField(*o, "properties", where, ""));
  std::vector<DarwinProperty> out;
  for (size_t i = 0; i < list->size(); ++i) {
    LP_ASSIGN_OR_RETURN(DarwinProperty p, ParseProperty((*list)[i], where, Index("properties", i)));
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<std::vector<DarwinExport>> ParseExportList(const json::value& body,
                                                          absl::string_view where) {
  LP_ASSIGN_OR_RETURN(const json::array* list, RequireArray(body, where, ""));
  std::vector<DarwinExport> out;
  for (size_t i = 0; i < list->size(); ++i) {
    LP_ASSIGN_OR_RETURN(DarwinExport e, ParseExport((*list)[i], where, Index("", i)));
    out.push_back(std::move(e));
  }
  return out;
}

// ---- Attempts of the retry layer.

// An attempt whose result is final (success, or a failure no retry cures).
template <typename T>
http::Attempted<T> Final(absl::StatusOr<T> result) {
  http::Attempted<T> out;
  out.result = std::move(result);
  return out;
}

// The failure of a request inside an attempt, as that attempt's failure.
template <typename T, typename U>
http::Attempted<T> FailedAs(const http::Attempted<U>& inner) {
  http::Attempted<T> out;
  out.result = inner.result.status();
  out.retryable = inner.retryable;
  out.may_repeat = inner.may_repeat;
  out.retry_after = inner.retry_after;
  out.http_status = inner.http_status;
  return out;
}

// Judges a failed HTTP exchange of a request that is safe to repeat:
// `status` is the error to return, `response` the answer when there was one.
template <typename T>
http::Attempted<T> Judged(const absl::Status& status, const http::HttpResponse* response,
                          absl::Time now) {
  http::Attempted<T> out;
  if (response == nullptr) {
    out.retryable = http::IsRetryableError(status, /*idempotent=*/true);
  } else {
    out.http_status = response->status;
    // 429 INSUFFICIENT_REMAINING_STORAGE (RESOURCE_EXHAUSTED) is a quota
    // that waiting does not cure.
    out.retryable = http::IsRetryableHttpStatus(response->status, /*idempotent=*/true) &&
                    status.code() != absl::StatusCode::kResourceExhausted;
    if (out.retryable) {
      if (std::optional<std::string> header = response->Header("Retry-After")) {
        out.retry_after = http::ParseRetryAfter(*header, now);
      }
    }
  }
  out.result = status;
  return out;
}

// A zip begins with a local file header, or (empty) with the end record.
bool LooksLikeZip(absl::string_view head) {
  return absl::StartsWith(head, absl::string_view("PK\x03\x04", 4)) ||
         absl::StartsWith(head, absl::string_view("PK\x05\x06", 4));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DarwinClient>> DarwinClient::Create(
    http::HttpClient* http, http::TokenBucketRateLimiter* limiter, Options options) {
  if (http == nullptr) {
    return absl::InvalidArgumentError("DarwinClient needs an HttpClient");
  }
  if (options.api_key.empty()) {
    return absl::InvalidArgumentError("DarwinClient: the V7 API key is empty");
  }
  if (options.api_key.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("DarwinClient: the V7 API key contains a line break");
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') {
    options.base_url.pop_back();
  }
  if (!IsHttpUrl(options.base_url) ||
      options.base_url.find_first_of("?# \r\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("DarwinClient: base URL '",
                                                   http::RedactedUrl(options.base_url),
                                                   "' is not an http(s) URL without query"));
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("DarwinClient: request_timeout must be positive");
  }
  if (options.step_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("DarwinClient: step_timeout must be positive");
  }
  if (absl::Status valid = options.retry.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("DarwinClient: ", valid.message()));
  }
  std::string limiter_key = common::Sha256Hex(options.api_key);
  if (limiter_key.empty()) return absl::InternalError("DarwinClient: SHA-256 is unavailable");
  return std::unique_ptr<DarwinClient>(
      new DarwinClient(http, limiter, std::move(options), std::move(limiter_key)));
}

http::RetryPolicy DarwinClient::DefaultRetryPolicy() {
  http::RetryPolicy policy;
  policy.max_attempts = 10;
  policy.initial_backoff = absl::Milliseconds(250);
  policy.multiplier = 2.0;
  policy.max_backoff = absl::Seconds(8);
  policy.jitter = 0.5;
  return policy;
}

DarwinClient::DarwinClient(http::HttpClient* http, http::TokenBucketRateLimiter* limiter,
                           Options options, std::string limiter_key)
    : http_(http),
      limiter_(limiter),
      options_(std::move(options)),
      limiter_key_(std::move(limiter_key)),
      loop_(options_.retry, options_.retry_hooks) {}

std::string DarwinClient::ApiUrl(absl::string_view path) const {
  return absl::StrCat(options_.base_url, path);
}

template <typename T, typename AttemptFn>
boost::asio::awaitable<absl::StatusOr<T>> DarwinClient::Step(std::string method, std::string url,
                                                             absl::Duration step_timeout,
                                                             AttemptFn attempt) {
  co_return co_await loop_.Run<T>(loop_.Now() + step_timeout, std::move(method), std::move(url),
                                  std::move(attempt));
}

boost::asio::awaitable<http::Attempted<DarwinClient::ApiAnswer>> DarwinClient::TryApi(
    std::string method, std::string path, std::string query, std::string body, Expect expect,
    Repeat repeat, absl::Time deadline) {
  http::HttpRequest request;
  request.method = method;
  request.url = absl::StrCat(options_.base_url, path, query.empty() ? "" : "?", query);
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Authorization", absl::StrCat("ApiKey ", options_.api_key)}};
  request.body = std::move(body);
  request.idempotent = repeat == Repeat::kSafe;
  if (limiter_ != nullptr) co_await limiter_->Acquire(limiter_key_);
  request.deadline = std::min(deadline, loop_.Now() + options_.request_timeout);
  absl::StatusOr<http::HttpResponse> response = co_await http_->Send(std::move(request));
  if (!response.ok()) {
    co_return Judged<ApiAnswer>(
        absl::Status(response.status().code(),
                     absl::StrCat(Where(method, path), ": ",
                                  ReplaceAll(std::string(response.status().message()),
                                             options_.api_key, "<redacted>"))),
        nullptr, loop_.Now());
  }
  if (response->status < 200 || response->status > 299) {
    co_return Judged<ApiAnswer>(HttpStatusError(method, path, *response, options_.api_key),
                                &*response, loop_.Now());
  }
  ApiAnswer answer;
  // V7 answers JSON; a body that does not parse was garbled on the way, or
  // did not come from V7's handler (which may not have done the work).
  if (expect == Expect::kJson || !response->body.empty()) {
    boost::system::error_code ec;
    answer.json = json::parse(json::string_view(response->body.data(), response->body.size()), ec);
    if (ec) {
      // A cut or garbled body: another attempt may bring a whole one.
      http::Attempted<ApiAnswer> out;
      out.result = absl::InternalError(
          absl::StrCat(Where(method, path), ": ", response->status, " response is not valid JSON"));
      out.retryable = true;
      co_return out;
    }
  }
  answer.response = *std::move(response);
  co_return Final<ApiAnswer>(std::move(answer));
}

boost::asio::awaitable<absl::StatusOr<DarwinClient::ApiAnswer>> DarwinClient::CallApi(
    std::string method, std::string path, std::string query, std::string body, Expect expect) {
  std::string url = ApiUrl(path);
  co_return co_await Step<ApiAnswer>(
      method, std::move(url), options_.step_timeout,
      [&](int, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<ApiAnswer>> {
        co_return co_await TryApi(method, path, query, body, expect, Repeat::kSafe, deadline);
      });
}

boost::asio::awaitable<absl::StatusOr<json::value>> DarwinClient::CallJson(std::string method,
                                                                           std::string path,
                                                                           std::string query,
                                                                           std::string body) {
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer,
                         co_await CallApi(std::move(method), std::move(path), std::move(query),
                                          std::move(body), Expect::kJson));
  co_return std::move(answer.json);
}

boost::asio::awaitable<absl::StatusOr<std::string>> DarwinClient::V2Path(std::string suffix) {
  LP_CO_ASSIGN_OR_RETURN(std::string team, co_await TeamSlug());
  co_return absl::StrCat("/api/v2/teams/", PercentEncode(team), suffix);
}

boost::asio::awaitable<absl::Status> DarwinClient::CheckAccess() {
  http::Attempted<ApiAnswer> answer =
      co_await TryApi("GET", "/api/users/token_info", "", "", Expect::kOptionalJson, Repeat::kSafe,
                      absl::Now() + options_.request_timeout);
  co_return answer.result.status();
}

boost::asio::awaitable<absl::StatusOr<std::string>> DarwinClient::TeamSlug() {
  {
    absl::MutexLock lock(&mu_);
    if (team_slug_.has_value()) co_return *team_slug_;
  }
  const std::string path = "/api/users/token_info";
  LP_CO_ASSIGN_OR_RETURN(json::value body, co_await CallJson("GET", path, "", ""));
  const std::string where = Where("GET", path);
  LP_CO_ASSIGN_OR_RETURN(const json::object* o, RequireObject(body, where, ""));
  const json::object* team = OptObject(*o, "selected_team");
  if (team == nullptr) {
    co_return FieldError(where, "selected_team", "is missing or not an object");
  }
  LP_CO_ASSIGN_OR_RETURN(std::string slug, RequireString(*team, "slug", where, "selected_team"));
  if (slug.empty()) co_return FieldError(where, "selected_team.slug", "is empty");
  absl::MutexLock lock(&mu_);
  team_slug_ = slug;
  co_return slug;
}

boost::asio::awaitable<http::Attempted<std::vector<DarwinDataset>>> DarwinClient::TryListDatasets(
    absl::Time deadline) {
  const std::string path = "/api/datasets";
  http::Attempted<ApiAnswer> answer =
      co_await TryApi("GET", path, "", "", Expect::kJson, Repeat::kSafe, deadline);
  if (!answer.result.ok()) co_return FailedAs<std::vector<DarwinDataset>>(answer);
  co_return Final(ParseDatasetList(answer.result->json, Where("GET", path)));
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinDataset>>> DarwinClient::ListDatasets() {
  co_return co_await Step<std::vector<DarwinDataset>>(
      "GET", ApiUrl("/api/datasets"), options_.step_timeout,
      [this](int, absl::Time deadline) { return TryListDatasets(deadline); });
}

boost::asio::awaitable<absl::StatusOr<DarwinDataset>> DarwinClient::GetOrCreateDataset(
    std::string slug) {
  if (slug.empty()) co_return absl::InvalidArgumentError("V7 dataset slug is empty");
  auto find = [&slug](const std::vector<DarwinDataset>& all) -> std::optional<DarwinDataset> {
    for (const DarwinDataset& ds : all) {
      if (ds.slug == slug) return ds;
    }
    return std::nullopt;
  };
  const std::string path = "/api/datasets";
  json::object request;
  request["name"] = slug;
  const std::string body = json::serialize(request);
  // Every attempt lists first: a create whose answer was lost is found.
  co_return co_await Step<DarwinDataset>(
      "POST", ApiUrl(path), options_.step_timeout,
      [&](int, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<DarwinDataset>> {
        http::Attempted<std::vector<DarwinDataset>> listed = co_await TryListDatasets(deadline);
        if (!listed.result.ok()) co_return FailedAs<DarwinDataset>(listed);
        if (std::optional<DarwinDataset> ds = find(*listed.result))
          co_return Final<DarwinDataset>(*ds);
        http::Attempted<ApiAnswer> created =
            co_await TryApi("POST", path, "", body, Expect::kJson, Repeat::kLookupFirst, deadline);
        if (created.result.ok()) {
          co_return Final(ParseDataset(created.result->json, Where("POST", path), ""));
        }
        if (created.result.status().code() != absl::StatusCode::kAlreadyExists) {
          co_return FailedAs<DarwinDataset>(created);
        }
        // Someone else created it between our list and create.
        http::Attempted<std::vector<DarwinDataset>> again = co_await TryListDatasets(deadline);
        if (!again.result.ok()) co_return FailedAs<DarwinDataset>(again);
        if (std::optional<DarwinDataset> ds = find(*again.result))
          co_return Final<DarwinDataset>(*ds);
        co_return Final<DarwinDataset>(created.result.status());
      });
}

boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> DarwinClient::RegisterUpload(
    std::string dataset_slug, std::vector<ItemRegistration> items) {
  if (items.empty()) co_return std::vector<RegisteredItem>{};
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/items/register_upload"));
  json::array entries;
  for (const ItemRegistration& item : items) {
    json::object slot;
    slot["file_name"] = item.file_name.empty() ? item.name : item.file_name;
    slot["slot_name"] = "0";
    slot["type"] = item.type;
    // fps 0 asks V7 for the video's native frame rate.
    slot["fps"] = 0;
    slot["as_frames"] = false;
    slot["extract_views"] = false;
    json::object entry;
    json::array slots;
    slots.push_back(std::move(slot));
    entry["slots"] = std::move(slots);
    entry["name"] = item.name;
    entry["path"] = NormalizeItemPath(item.path);
    entries.push_back(std::move(entry));
  }
  json::object request;
  request["items"] = std::move(entries);
  json::object upload_options;
  upload_options["handle_as_slices"] = false;
  request["options"] = std::move(upload_options);
  request["dataset_slug"] = dataset_slug;
  LP_CO_ASSIGN_OR_RETURN(json::value body,
                         co_await CallJson("POST", path, "", json::serialize(request)));
  co_return MatchRegistrations(body, items, /*expect_upload_id=*/true, Where("POST", path));
}

boost::asio::awaitable<absl::StatusOr<std::string>> DarwinClient::SignUpload(
    std::string upload_id) {
  if (upload_id.empty()) co_return absl::InvalidArgumentError("V7 upload id is empty");
  LP_CO_ASSIGN_OR_RETURN(
      std::string path,
      co_await V2Path(absl::StrCat("/items/uploads/", PercentEncode(upload_id), "/sign")));
  LP_CO_ASSIGN_OR_RETURN(json::value body, co_await CallJson("GET", path, "", ""));
  const std::string where = Where("GET", path);
  LP_CO_ASSIGN_OR_RETURN(const json::object* o, RequireObject(body, where, ""));
  if (Find(*o, "errors") != nullptr) {
    co_return absl::InternalError(absl::StrCat(
        where, ": V7 answered errors: ",
        Truncate(ReplaceAll(ShortReason(json::serialize(*o)), options_.api_key, "<redacted>"),
                 kMaxReasonChars)));
  }
  LP_CO_ASSIGN_OR_RETURN(std::string url, RequireString(*o, "upload_url", where, ""));
  if (!IsHttpUrl(url)) co_return FieldError(where, "upload_url", "is not an absolute http(s) URL");
  co_return url;
}

boost::asio::awaitable<absl::Status> DarwinClient::PutSignedUpload(
    std::string upload_url, std::function<http::BodyChunkSource()> body_factory,
    int64_t size_bytes) {
  const std::string path = UrlPath(upload_url);
  if (!IsHttpUrl(upload_url)) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("V7 PUT ", path, ": the signed upload URL is not an http(s) URL"));
  }
  if (!body_factory || size_bytes < 0) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("V7 PUT ", path, ": no body or a negative body size"));
  }
  absl::StatusOr<std::monostate> put = co_await Step<std::monostate>(
      "PUT", http::RedactedUrl(upload_url), options_.step_timeout,
      [&](int, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<std::monostate>> {
        // A presigned URL carries its own credentials: no Authorization, no
        // Content-Type (it is part of the signature), no limiter token.
        http::HttpRequest request;
        request.method = "PUT";
        request.url = upload_url;
        request.body_factory = body_factory;
        request.body_size = size_bytes;
        request.idempotent = true;
        request.deadline = std::min(deadline, loop_.Now() + options_.request_timeout);
        absl::StatusOr<http::HttpResponse> response = co_await http_->Send(std::move(request));
        if (!response.ok()) {
          co_return Judged<std::monostate>(
              absl::Status(response.status().code(),
                           absl::StrCat("V7 PUT ", path, ": ",
                                        ReplaceAll(std::string(response.status().message()),
                                                   options_.api_key, "<redacted>"))),
              nullptr, loop_.Now());
        }
        if (response->status < 200 || response->status > 299) {
          co_return Judged<std::monostate>(
              HttpStatusError("PUT", path, *response, options_.api_key), &*response, loop_.Now());
        }
        co_return Final<std::monostate>(std::monostate{});
      });
  co_return put.status();
}

boost::asio::awaitable<absl::Status> DarwinClient::ConfirmUpload(std::string upload_id) {
  if (upload_id.empty()) co_return absl::InvalidArgumentError("V7 upload id is empty");
  LP_CO_ASSIGN_OR_RETURN(
      std::string path,
      co_await V2Path(absl::StrCat("/items/uploads/", PercentEncode(upload_id), "/confirm")));
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer, co_await CallApi("POST", path, "", "{}"));
  (void)answer;
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DarwinClient::Upload(
    std::string upload_id, std::function<http::BodyChunkSource()> body_factory,
    int64_t size_bytes) {
  LP_CO_ASSIGN_OR_RETURN(std::string url, co_await SignUpload(upload_id));
  for (int put = 1;; ++put) {
    LP_CO_RETURN_IF_ERROR(co_await PutSignedUpload(url, body_factory, size_bytes));
    absl::Status confirmed = co_await ConfirmUpload(upload_id);
    // 422: V7 has no bytes for the upload although the PUT got a 2xx (not
    // from the storage, or lost on the way): they are sent again.
    if (confirmed.code() != absl::StatusCode::kInvalidArgument ||
        put >= loop_.policy().max_attempts) {
      co_return confirmed;
    }
  }
}

boost::asio::awaitable<absl::StatusOr<std::vector<RegisteredItem>>> DarwinClient::RegisterExisting(
    std::string dataset_slug, std::string storage_slug, std::vector<ItemRegistration> items) {
  if (items.empty()) co_return std::vector<RegisteredItem>{};
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/items/register_existing"));
  json::array entries;
  for (const ItemRegistration& item : items) {
    json::object slot;
    slot["as_frames"] = false;
    slot["slot_name"] = "0";
    slot["type"] = item.type;
    slot["storage_key"] = item.storage_key;
    slot["file_name"] = item.file_name.empty() ? item.name : item.file_name;
    // Videos only (darwin-api E28): 0 asks V7 for the native frame rate.
    if (item.type == "video") slot["fps"] = 0;
    json::object entry;
    entry["path"] = NormalizeItemPath(item.path);
    entry["name"] = item.name;
    json::array slots;
    slots.push_back(std::move(slot));
    entry["slots"] = std::move(slots);
    entries.push_back(std::move(entry));
  }
  json::object request;
  request["items"] = std::move(entries);
  request["dataset_slug"] = dataset_slug;
  request["storage_slug"] = storage_slug;
  LP_CO_ASSIGN_OR_RETURN(json::value body,
                         co_await CallJson("POST", path, "", json::serialize(request)));
  co_return MatchRegistrations(body, items, /*expect_upload_id=*/false, Where("POST", path));
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinItem>>> DarwinClient::ListItems(
    int64_t dataset_id, std::vector<std::string> item_ids) {
  std::vector<DarwinItem> out;
  ItemPageSink collect =
      [&out](std::vector<DarwinItem> page) -> boost::asio::awaitable<absl::Status> {
    for (auto& item : page) out.push_back(std::move(item));
    co_return absl::OkStatus();
  };
  absl::Status s = co_await ListItemPages(dataset_id, std::move(item_ids), std::move(collect));
  if (!s.ok()) co_return s;
  co_return out;
}

boost::asio::awaitable<absl::Status> DarwinClient::ListItemPages(int64_t dataset_id,
                                                                 std::vector<std::string> item_ids,
                                                                 ItemPageSink on_page) {
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/items"));
  const std::string where = Where("GET", path);
  std::string base_query;
  AddQuery(base_query, "dataset_ids[]", absl::StrCat(dataset_id));
  AddQuery(base_query, "page[size]", absl::StrCat(kItemPageSize));

  // Chunks of ids, each a query suffix; one empty chunk lists everything.
  std::vector<std::string> chunks;
  if (item_ids.empty()) {
    chunks.emplace_back();
  } else {
    absl::flat_hash_set<std::string> seen;
    const size_t fixed = options_.base_url.size() + path.size() + 1 + base_query.size();
    std::string chunk;
    size_t in_chunk = 0;
    for (const std::string& id : item_ids) {
      if (!seen.insert(id).second) continue;
      std::string pair = absl::StrCat("&item_ids[]=", PercentEncode(id));
      if (in_chunk > 0 &&
          (in_chunk == kMaxIdsPerItemQuery ||
           fixed + chunk.size() + pair.size() + kPageCursorReserve > kMaxItemQueryUrlChars)) {
        chunks.push_back(std::move(chunk));
        chunk.clear();
        in_chunk = 0;
      }
      chunk += pair;
      ++in_chunk;
    }
    if (in_chunk > 0) chunks.push_back(std::move(chunk));
  }

  for (const std::string& chunk : chunks) {
    std::string cursor;
    absl::flat_hash_set<std::string> seen_cursors;
    for (int page = 0;; ++page) {
      if (page >= kMaxPages) {
        co_return absl::InternalError(absl::StrCat(where, ": more than ", kMaxPages, " pages"));
      }
      std::string query = base_query + chunk;
      if (!cursor.empty()) AddQuery(query, "page[from]", cursor);
      LP_CO_ASSIGN_OR_RETURN(json::value body, co_await CallJson("GET", path, query, ""));
      LP_CO_ASSIGN_OR_RETURN(const json::object* o, RequireObject(body, where, ""));
      LP_CO_ASSIGN_OR_RETURN(const json::array* items, RequireArrayField(*o, "items", where, ""));
      std::vector<DarwinItem> parsed;
      parsed.reserve(items->size());
      for (size_t i = 0; i < items->size(); ++i) {
        LP_CO_ASSIGN_OR_RETURN(DarwinItem item, ParseItem((*items)[i], where, Index("items", i)));
        parsed.push_back(std::move(item));
      }
      cursor.clear();
      if (const json::object* page_info = OptObject(*o, "page")) {
        if (const json::value* next = Find(*page_info, "next")) {
          if (next->is_string()) {
            cursor = Str(next->get_string());
          } else if (std::optional<int64_t> n = AsInt(*next, false)) {
            cursor = absl::StrCat(*n);
          } else {
            co_return FieldError(where, "page.next", "is neither a string nor null");
          }
        }
      }
      absl::Status delivered = co_await on_page(std::move(parsed));
      if (!delivered.ok()) co_return delivered;
      if (cursor.empty()) break;
      if (!seen_cursors.insert(cursor).second) {
        co_return FieldError(where, "page.next", "repeats an earlier cursor");
      }
    }
  }
  co_return absl::OkStatus();
}

boost::asio::awaitable<http::Attempted<std::vector<DarwinClass>>> DarwinClient::TryListClasses(
    absl::Time deadline) {
  absl::StatusOr<std::string> team = co_await TeamSlug();
  if (!team.ok()) co_return Final<std::vector<DarwinClass>>(team.status());
  const std::string path = absl::StrCat("/api/teams/", PercentEncode(*team), "/annotation_classes");
  http::Attempted<ApiAnswer> answer =
      co_await TryApi("GET", path, "include_tags=true", "", Expect::kJson, Repeat::kSafe, deadline);
  if (!answer.result.ok()) co_return FailedAs<std::vector<DarwinClass>>(answer);
  co_return Final(ParseClassList(answer.result->json, Where("GET", path)));
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinClass>>>
DarwinClient::ListAnnotationClasses() {
  LP_CO_ASSIGN_OR_RETURN(std::string team, co_await TeamSlug());
  co_return co_await Step<std::vector<DarwinClass>>(
      "GET", ApiUrl(absl::StrCat("/api/teams/", PercentEncode(team), "/annotation_classes")),
      options_.step_timeout, [this](int, absl::Time deadline) { return TryListClasses(deadline); });
}

boost::asio::awaitable<absl::StatusOr<absl::flat_hash_map<std::string, int64_t>>>
DarwinClient::AnnotationTypeIds() {
  {
    absl::MutexLock lock(&mu_);
    if (annotation_type_ids_.has_value()) co_return *annotation_type_ids_;
  }
  const std::string path = "/api/annotation_types";
  LP_CO_ASSIGN_OR_RETURN(json::value body, co_await CallJson("GET", path, "", ""));
  const std::string where = Where("GET", path);
  LP_CO_ASSIGN_OR_RETURN(const json::array* list, RequireArray(body, where, ""));
  absl::flat_hash_map<std::string, int64_t> ids;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = Index("", i);
    LP_CO_ASSIGN_OR_RETURN(const json::object* t, RequireObject((*list)[i], where, at));
    LP_CO_ASSIGN_OR_RETURN(std::string name, RequireString(*t, "name", where, at));
    const json::value* id_value = Find(*t, "id");
    std::optional<int64_t> id = id_value == nullptr ? std::nullopt : AsInt(*id_value, false);
    if (!id.has_value()) co_return FieldError(where, Sub(at, "id"), "is missing or not an integer");
    // The SDK treats id 0 as "unknown type" (§2.3 E10).
    if (*id != 0) ids.emplace(std::move(name), *id);
  }
  absl::MutexLock lock(&mu_);
  annotation_type_ids_ = ids;
  co_return ids;
}

boost::asio::awaitable<absl::StatusOr<DarwinClass>> DarwinClient::CreateAnnotationClass(
    int64_t dataset_id, std::string name, std::vector<std::string> types, json::object metadata) {
  if (name.empty()) co_return absl::InvalidArgumentError("V7 annotation class name is empty");
  if (types.empty()) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("V7 annotation class '", name, "' has no annotation type"));
  }
  LP_CO_ASSIGN_OR_RETURN(auto type_ids, co_await AnnotationTypeIds());
  json::array ids;
  for (const std::string& type : types) {
    auto it = type_ids.find(type);
    if (it == type_ids.end()) {
      co_return absl::InvalidArgumentError(absl::StrCat(
          "V7 annotation class '", name, "': V7 lists no annotation type '", type, "'"));
    }
    ids.push_back(it->second);
  }
  const std::string path = "/api/annotation_classes";
  json::object request;
  request["dataset_id"] = dataset_id;
  request["name"] = name;
  if (!metadata.contains("_color")) metadata["_color"] = "auto";
  request["metadata"] = std::move(metadata);
  request["annotation_type_ids"] = std::move(ids);
  json::object dataset;
  dataset["id"] = dataset_id;
  json::array datasets;
  datasets.push_back(std::move(dataset));
  request["datasets"] = std::move(datasets);
  const std::string body = json::serialize(request);
  co_return co_await Step<DarwinClass>(
      "POST", ApiUrl(path), options_.step_timeout,
      [&](int n, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<DarwinClass>> {
        if (n > 1) {
          // An earlier attempt's answer may have been lost after V7 created
          // the class: look it up (name and main type) before creating.
          http::Attempted<std::vector<DarwinClass>> listed = co_await TryListClasses(deadline);
          if (!listed.result.ok()) co_return FailedAs<DarwinClass>(listed);
          for (const DarwinClass& c : *listed.result) {
            if (c.name == name && !c.annotation_types.empty() &&
                c.annotation_types.front() == types.front()) {
              co_return Final<DarwinClass>(c);
            }
          }
        }
        http::Attempted<ApiAnswer> created =
            co_await TryApi("POST", path, "", body, Expect::kJson, Repeat::kLookupFirst, deadline);
        if (!created.result.ok()) co_return FailedAs<DarwinClass>(created);
        absl::StatusOr<DarwinClass> cls = ParseClass(created.result->json, Where("POST", path), "");
        if (cls.ok()) {
          // The answer is not read by V7's own clients; fill what it left out.
          if (cls->annotation_types.empty()) cls->annotation_types = types;
          if (cls->dataset_ids.empty()) cls->dataset_ids.push_back(dataset_id);
        }
        co_return Final(std::move(cls));
      });
}

boost::asio::awaitable<absl::Status> DarwinClient::AddClassToDataset(const DarwinClass& cls,
                                                                     int64_t dataset_id) {
  // Copied before the first suspension: `cls` is the caller's.
  const int64_t class_id = cls.id;
  std::vector<int64_t> datasets = cls.dataset_ids;
  if (class_id <= 0) co_return absl::InvalidArgumentError("V7 annotation class id is not set");
  if (std::find(datasets.begin(), datasets.end(), dataset_id) != datasets.end()) {
    co_return absl::OkStatus();
  }
  datasets.push_back(dataset_id);
  json::array entries;
  for (int64_t id : datasets) {
    json::object entry;
    entry["id"] = id;
    entries.push_back(std::move(entry));
  }
  json::object request;
  request["datasets"] = std::move(entries);
  request["id"] = class_id;
  const std::string path = absl::StrCat("/api/annotation_classes/", class_id);
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer,
                         co_await CallApi("PUT", path, "", json::serialize(request)));
  (void)answer;
  co_return absl::OkStatus();
}

boost::asio::awaitable<http::Attempted<std::vector<DarwinProperty>>>
DarwinClient::TryListProperties(std::optional<int64_t> annotation_class_id, absl::Time deadline) {
  absl::StatusOr<std::string> path = co_await V2Path("/properties");
  if (!path.ok()) co_return Final<std::vector<DarwinProperty>>(path.status());
  std::string query;
  if (annotation_class_id.has_value()) {
    AddQuery(query, "annotation_class_ids[]", absl::StrCat(*annotation_class_id));
  }
  AddQuery(query, "include_values", "true");
  http::Attempted<ApiAnswer> answer =
      co_await TryApi("GET", *path, query, "", Expect::kJson, Repeat::kSafe, deadline);
  if (!answer.result.ok()) co_return FailedAs<std::vector<DarwinProperty>>(answer);
  co_return Final(ParsePropertyList(answer.result->json, Where("GET", *path)));
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinProperty>>> DarwinClient::ListProperties(
    std::optional<int64_t> annotation_class_id) {
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/properties"));
  co_return co_await Step<std::vector<DarwinProperty>>(
      "GET", ApiUrl(path), options_.step_timeout,
      [this, annotation_class_id](int, absl::Time deadline) {
        return TryListProperties(annotation_class_id, deadline);
      });
}

boost::asio::awaitable<absl::StatusOr<DarwinProperty>> DarwinClient::CreateProperty(
    PropertyDefinition def) {
  if (def.name.empty() || def.type.empty() || def.granularity.empty()) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("V7 property '", def.name, "': name, type and granularity must all be set"));
  }
  const bool item_level = def.granularity == "item";
  if (item_level == def.annotation_class_id.has_value()) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("V7 property '", def.name, "': ",
                     item_level ? "an item-level property has no annotation_class_id"
                                : "a class property needs an annotation_class_id"));
  }
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/properties"));
  json::object request;
  request["required"] = def.required;
  request["type"] = def.type;
  request["granularity"] = def.granularity;
  request["name"] = def.name;
  request["description"] = "";
  request["property_values"] = PropertyValuesJson(def.values);
  if (item_level) {
    json::array ids;
    for (int64_t id : def.dataset_ids) ids.push_back(id);
    request["dataset_ids"] = std::move(ids);
  } else {
    request["annotation_class_id"] = *def.annotation_class_id;
  }
  const std::string body = json::serialize(request);
  co_return co_await Step<DarwinProperty>(
      "POST", ApiUrl(path), options_.step_timeout,
      [&](int n, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<DarwinProperty>> {
        if (n > 1) {
          // An earlier attempt's answer may have been lost after V7 created
          // the property: look it up (name, class or item level) first.
          http::Attempted<std::vector<DarwinProperty>> listed =
              co_await TryListProperties(def.annotation_class_id, deadline);
          if (!listed.result.ok()) co_return FailedAs<DarwinProperty>(listed);
          for (const DarwinProperty& p : *listed.result) {
            if (p.name == def.name && p.annotation_class_id == def.annotation_class_id &&
                (p.granularity == "item") == item_level) {
              co_return Final<DarwinProperty>(p);
            }
          }
        }
        http::Attempted<ApiAnswer> created =
            co_await TryApi("POST", path, "", body, Expect::kJson, Repeat::kLookupFirst, deadline);
        if (!created.result.ok()) co_return FailedAs<DarwinProperty>(created);
        co_return Final(ParseProperty(created.result->json, Where("POST", path), ""));
      });
}

boost::asio::awaitable<absl::StatusOr<DarwinProperty>> DarwinClient::AddPropertyValues(
    const DarwinProperty& property, std::vector<std::string> values) {
  // Copied before the first suspension: `property` is the caller's.
  const DarwinProperty given = property;
  if (given.id.empty()) co_return absl::InvalidArgumentError("V7 property id is not set");
  // The values of `values` that `current` lacks, each once.
  auto missing_from = [&values](const DarwinProperty& current) {
    std::vector<std::string> missing;
    absl::flat_hash_set<std::string> present;
    for (const DarwinPropertyValue& v : current.values) present.insert(v.value);
    for (const std::string& v : values) {
      if (present.insert(v).second) missing.push_back(v);
    }
    return missing;
  };
  // V7 appends what it is sent (§2.4 E18): resending a value would duplicate it.
  if (missing_from(given).empty()) co_return given;
  LP_CO_ASSIGN_OR_RETURN(std::string path,
                         co_await V2Path(absl::StrCat("/properties/", PercentEncode(given.id))));
  co_return co_await Step<DarwinProperty>(
      "PUT", ApiUrl(path), options_.step_timeout,
      [&](int n, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<DarwinProperty>> {
        DarwinProperty current = given;
        if (n > 1) {
          // An earlier attempt may have appended the values before its
          // answer was lost: re-read the property, send only what is missing.
          http::Attempted<std::vector<DarwinProperty>> listed =
              co_await TryListProperties(given.annotation_class_id, deadline);
          if (!listed.result.ok()) co_return FailedAs<DarwinProperty>(listed);
          const DarwinProperty* found = nullptr;
          for (const DarwinProperty& p : *listed.result) {
            if (p.id == given.id) found = &p;
          }
          if (found == nullptr) {
            co_return Final<DarwinProperty>(absl::NotFoundError(
                absl::StrCat(Where("PUT", path), ": the property is no longer listed")));
          }
          current = *found;
        }
        std::vector<std::string> missing = missing_from(current);
        if (missing.empty()) co_return Final<DarwinProperty>(current);
        json::object request;
        request["name"] = current.name;
        request["type"] = current.type;
        request["required"] = current.required;
        request["property_values"] = PropertyValuesJson(missing);
        // Appends: repeated only after the re-read above (kLookupFirst).
        http::Attempted<ApiAnswer> updated =
            co_await TryApi("PUT", path, "", json::serialize(request), Expect::kJson,
                            Repeat::kLookupFirst, deadline);
        if (!updated.result.ok()) co_return FailedAs<DarwinProperty>(updated);
        co_return Final(ParseProperty(updated.result->json, Where("PUT", path), ""));
      });
}

boost::asio::awaitable<absl::Status> DarwinClient::ImportAnnotations(std::string item_id,
                                                                     json::array annotations,
                                                                     bool overwrite) {
  if (item_id.empty()) co_return absl::InvalidArgumentError("V7 item id is empty");
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path(absl::StrCat(
                                               "/items/", PercentEncode(item_id), "/import")));
  const std::string where = Where("POST", path);
  const json::value first_overwrite(overwrite ? "true" : "false");
  // Set once V7 answered 413 to the whole payload: the SDK's split (§6.3).
  std::optional<std::vector<json::array>> parts;
  // Each attempt imports everything, from the first (overwriting) payload:
  // with deterministic ids a repeat replaces what a lost attempt stored.
  absl::StatusOr<std::monostate> imported = co_await Step<std::monostate>(
      "POST", ApiUrl(path), options_.step_timeout,
      [&](int, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<std::monostate>> {
        if (!parts.has_value()) {
          http::Attempted<ApiAnswer> whole =
              co_await TryApi("POST", path, "", ImportBody(annotations, first_overwrite),
                              Expect::kOptionalJson, Repeat::kSafe, deadline);
          if (whole.result.ok()) co_return Final<std::monostate>(std::monostate{});
          if (whole.http_status != 413) co_return FailedAs<std::monostate>(whole);
          absl::StatusOr<std::vector<json::array>> split =
              SplitAnnotations(annotations, kImportPayloadLimitBytes, where);
          if (!split.ok()) co_return Final<std::monostate>(split.status());
          parts = *std::move(split);
        }
        // Should a part still be too large for this server, it is halved
        // again rather than failing the item.
        std::deque<json::array> pending(parts->begin(), parts->end());
        bool applied_any = false;
        while (!pending.empty()) {
          json::array part = std::move(pending.front());
          pending.pop_front();
          const json::value flag = applied_any ? json::value(false) : first_overwrite;
          http::Attempted<ApiAnswer> r =
              co_await TryApi("POST", path, "", ImportBody(part, flag), Expect::kOptionalJson,
                              Repeat::kSafe, deadline);
          if (r.result.ok()) {
            applied_any = true;
            continue;
          }
          if (r.http_status != 413 || part.size() < 2) co_return FailedAs<std::monostate>(r);
          const size_t half = part.size() / 2;
          json::array front(part.begin(), part.begin() + static_cast<std::ptrdiff_t>(half));
          json::array back(part.begin() + static_cast<std::ptrdiff_t>(half), part.end());
          pending.push_front(std::move(back));
          pending.push_front(std::move(front));
        }
        co_return Final<std::monostate>(std::monostate{});
      });
  co_return imported.status();
}

boost::asio::awaitable<absl::Status> DarwinClient::CreateExport(std::string dataset_slug,
                                                                std::string name,
                                                                std::vector<std::string> item_ids) {
  if (dataset_slug.empty() || name.empty()) {
    co_return absl::InvalidArgumentError("V7 export: empty dataset slug or export name");
  }
  LP_CO_ASSIGN_OR_RETURN(
      std::string path,
      co_await V2Path(absl::StrCat("/datasets/", PercentEncode(dataset_slug), "/exports")));
  // `filters` must be present: without it V7 exports completed items only
  // (§11.8).
  json::object filters;
  if (!item_ids.empty()) {
    json::array ids;
    for (std::string& id : item_ids) ids.emplace_back(json::string(id));
    filters["item_ids"] = std::move(ids);
  }
  filters["not_statuses"] = json::array{"archived", "error"};
  json::object body;
  body["name"] = name;
  body["format"] = "darwin_json_2";
  body["include_authorship"] = true;
  body["include_export_token"] = false;
  body["annotation_filters"] = json::object();
  body["filters"] = std::move(filters);
  const std::string request = json::serialize(body);
  absl::StatusOr<std::monostate> created = co_await Step<std::monostate>(
      "POST", ApiUrl(path), options_.step_timeout,
      [&](int n, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<std::monostate>> {
        if (n > 1) {
          // An earlier attempt's answer may have been lost after V7 created
          // the export: an export of this name is that one.
          http::Attempted<std::vector<DarwinExport>> listed =
              co_await TryListExports(dataset_slug, deadline);
          if (!listed.result.ok()) co_return FailedAs<std::monostate>(listed);
          for (const DarwinExport& e : *listed.result) {
            if (e.name == name) co_return Final<std::monostate>(std::monostate{});
          }
        }
        http::Attempted<ApiAnswer> answer = co_await TryApi(
            "POST", path, "", request, Expect::kOptionalJson, Repeat::kLookupFirst, deadline);
        if (!answer.result.ok()) co_return FailedAs<std::monostate>(answer);
        co_return Final<std::monostate>(std::monostate{});
      });
  co_return created.status();
}

boost::asio::awaitable<http::Attempted<std::vector<DarwinExport>>> DarwinClient::TryListExports(
    std::string dataset_slug, absl::Time deadline) {
  absl::StatusOr<std::string> path =
      co_await V2Path(absl::StrCat("/datasets/", PercentEncode(dataset_slug), "/exports"));
  if (!path.ok()) co_return Final<std::vector<DarwinExport>>(path.status());
  http::Attempted<ApiAnswer> answer =
      co_await TryApi("GET", *path, "", "", Expect::kJson, Repeat::kSafe, deadline);
  if (!answer.result.ok()) co_return FailedAs<std::vector<DarwinExport>>(answer);
  co_return Final(ParseExportList(answer.result->json, Where("GET", *path)));
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinExport>>> DarwinClient::ListExports(
    std::string dataset_slug) {
  if (dataset_slug.empty()) co_return absl::InvalidArgumentError("V7 export: empty dataset slug");
  LP_CO_ASSIGN_OR_RETURN(
      std::string path,
      co_await V2Path(absl::StrCat("/datasets/", PercentEncode(dataset_slug), "/exports")));
  co_return co_await Step<std::vector<DarwinExport>>(
      "GET", ApiUrl(path), options_.step_timeout, [this, &dataset_slug](int, absl::Time deadline) {
        return TryListExports(dataset_slug, deadline);
      });
}

boost::asio::awaitable<absl::Status> DarwinClient::DeleteExport(std::string dataset_slug,
                                                                std::string name) {
  if (dataset_slug.empty() || name.empty()) {
    co_return absl::InvalidArgumentError("V7 export: empty dataset slug or export name");
  }
  LP_CO_ASSIGN_OR_RETURN(std::string path,
                         co_await V2Path(absl::StrCat("/datasets/", PercentEncode(dataset_slug),
                                                      "/exports/", PercentEncode(name))));
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer, co_await CallApi("DELETE", path, "", ""));
  (void)answer;
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::StatusOr<int64_t>> DarwinClient::DownloadExport(
    std::string download_url, std::string file_path, absl::Duration timeout) {
  // A signed URL: messages show it redacted (no userinfo, query, fragment).
  const std::string redacted = http::RedactedUrl(download_url);
  const std::string what = absl::StrCat("V7 export download ", redacted);
  if (!IsHttpUrl(download_url)) {
    co_return absl::InvalidArgumentError(absl::StrCat(what, ": not an http(s) URL"));
  }
  auto remove_file = [&file_path] {
    std::error_code ignored;
    std::filesystem::remove(file_path, ignored);
  };
  // Each attempt rewrites the file from its first byte.
  absl::StatusOr<int64_t> downloaded = co_await Step<int64_t>(
      "GET", redacted, timeout,
      [&](int, absl::Time deadline) -> boost::asio::awaitable<http::Attempted<int64_t>> {
        std::ofstream out(file_path, std::ios::binary | std::ios::trunc);
        if (!out) {
          co_return Final<int64_t>(absl::InternalError(
              absl::StrCat(what, ": cannot create '", file_path, "': ", std::strerror(errno))));
        }
        int64_t written = 0;
        bool write_failed = false;
        std::string head;  // the first bytes, to recognise a zip
        // A presigned URL carries its own credentials: no Authorization (S3
        // would reject it), no Accept-Encoding (the zip must arrive as
        // stored), no limiter token.
        http::HttpRequest request;
        request.method = "GET";
        request.url = download_url;
        request.idempotent = true;
        request.deadline = deadline;
        absl::StatusOr<http::HttpResponse> response = co_await http_->SendStreaming(
            std::move(request),
            [&out, &written, &write_failed,
             &head](absl::string_view chunk) -> boost::asio::awaitable<absl::Status> {
              if (head.size() < 4) {
                const absl::string_view more = chunk.substr(0, 4 - head.size());
                head.append(more.data(), more.size());
              }
              out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
              if (!out) {
                write_failed = true;
                co_return absl::InternalError("write failed");
              }
              written += static_cast<int64_t>(chunk.size());
              co_return absl::OkStatus();
            });
        if (write_failed) {
          co_return Final<int64_t>(absl::InternalError(
              absl::StrCat(what, ": cannot write '", file_path, "' after ", written, " bytes")));
        }
        if (!response.ok()) {
          co_return Judged<int64_t>(
              absl::Status(response.status().code(),
                           absl::StrCat(what, ": ",
                                        ReplaceAll(std::string(response.status().message()),
                                                   options_.api_key, "<redacted>"))),
              nullptr, loop_.Now());
        }
        if (response->status < 200 || response->status > 299) {
          absl::StatusCode code = response->status == 404 || response->status == 410
                                      ? absl::StatusCode::kNotFound
                                      : absl::StatusCode::kUnavailable;
          co_return Judged<int64_t>(
              absl::Status(code, absl::StrCat(what, ": HTTP ", response->status)), &*response,
              loop_.Now());
        }
        out.flush();
        if (!out) {
          co_return Final<int64_t>(
              absl::InternalError(absl::StrCat(what, ": cannot write '", file_path, "'")));
        }
        // A cut or garbled body: another attempt may bring a whole one.
        http::Attempted<int64_t> bad_body;
        bad_body.retryable = true;
        if (std::optional<std::string> length = response->Header("Content-Length")) {
          int64_t expected = 0;
          if (absl::SimpleAtoi(*length, &expected) && written < expected) {
            bad_body.result = absl::DataLossError(
                absl::StrCat(what, ": got ", written, " of ", expected, " bytes (Content-Length)"));
            co_return bad_body;
          }
        }
        if (!LooksLikeZip(head)) {
          bad_body.result = absl::DataLossError(absl::StrCat(
              what, ": the ", written, " bytes received do not begin like a zip archive"));
          co_return bad_body;
        }
        out.close();
        if (!out) {
          co_return Final<int64_t>(
              absl::InternalError(absl::StrCat(what, ": cannot close '", file_path, "'")));
        }
        co_return Final<int64_t>(written);
      });
  if (!downloaded.ok()) remove_file();
  co_return downloaded;
}

boost::asio::awaitable<absl::Status> DarwinClient::DeleteItems(int64_t dataset_id,
                                                               std::vector<std::string> item_ids) {
  if (item_ids.empty()) co_return absl::OkStatus();
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/items"));
  for (size_t begin = 0; begin < item_ids.size(); begin += kDeleteItemsChunk) {
    size_t end = std::min(item_ids.size(), begin + kDeleteItemsChunk);
    json::array ids;
    for (size_t i = begin; i < end; ++i) ids.emplace_back(json::string(item_ids[i]));
    json::object filters;
    filters["dataset_ids"] = json::array{dataset_id};
    filters["item_ids"] = std::move(ids);
    json::object body;
    body["filters"] = std::move(filters);
    LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer,
                           co_await CallApi("DELETE", path, "", json::serialize(body)));
    (void)answer;
  }
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::StatusOr<std::vector<DarwinWorkflow>>> DarwinClient::ListWorkflows() {
  LP_CO_ASSIGN_OR_RETURN(std::string path, co_await V2Path("/workflows"));
  LP_CO_ASSIGN_OR_RETURN(json::value body, co_await CallJson("GET", path, "", ""));
  const std::string where = Where("GET", path);
  LP_CO_ASSIGN_OR_RETURN(const json::array* list, RequireArray(body, where, ""));
  std::vector<DarwinWorkflow> out;
  for (size_t i = 0; i < list->size(); ++i) {
    LP_CO_ASSIGN_OR_RETURN(DarwinWorkflow w, ParseWorkflow((*list)[i], where, Index("", i)));
    out.push_back(std::move(w));
  }
  co_return out;
}

boost::asio::awaitable<absl::Status> DarwinClient::UnlinkWorkflowDataset(std::string workflow_id) {
  if (workflow_id.empty()) co_return absl::InvalidArgumentError("V7 workflow id is empty");
  LP_CO_ASSIGN_OR_RETURN(
      std::string path,
      co_await V2Path(absl::StrCat("/workflows/", PercentEncode(workflow_id), "/unlink_dataset")));
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer, co_await CallApi("PATCH", path, "", ""));
  (void)answer;
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DarwinClient::DeleteWorkflow(std::string workflow_id) {
  if (workflow_id.empty()) co_return absl::InvalidArgumentError("V7 workflow id is empty");
  LP_CO_ASSIGN_OR_RETURN(std::string path,
                         co_await V2Path(absl::StrCat("/workflows/", PercentEncode(workflow_id))));
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer, co_await CallApi("DELETE", path, "", ""));
  (void)answer;
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> DarwinClient::ArchiveDataset(int64_t dataset_id) {
  const std::string path = absl::StrCat("/api/datasets/", dataset_id, "/archive");
  LP_CO_ASSIGN_OR_RETURN(ApiAnswer answer, co_await CallApi("PUT", path, "", "{}"));
  (void)answer;
  co_return absl::OkStatus();
}

std::string DarwinClient::EditorUrl(int64_t dataset_id) const {
  return absl::StrCat(options_.base_url, "/datasets/", dataset_id);
}

}  // namespace labelport::backend::darwin
