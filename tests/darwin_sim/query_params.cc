#include "query_params.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace labelport::darwin_sim {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.empty()) return "/";
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

QueryParams QueryParams::Parse(std::string_view query) {
  QueryParams params;
  for (absl::string_view apart :
       absl::StrSplit(absl::string_view(query.data(), query.size()), '&')) {
    const std::string_view part(apart.data(), apart.size());
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string key = PercentDecode(part.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1), true);
    if (key.size() > 2 && key.compare(key.size() - 2, 2, "[]") == 0) {
      key.resize(key.size() - 2);
    }
    params.pairs_.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

std::vector<std::string> QueryParams::GetAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : pairs_) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::optional<std::string> QueryParams::Get(std::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

bool QueryParams::Has(std::string_view key) const { return Get(key).has_value(); }

bool QueryParams::GetBool(std::string_view key, bool fallback) const {
  const std::optional<std::string> v = Get(key);
  if (!v.has_value()) return fallback;
  const std::string lower = absl::AsciiStrToLower(*v);
  return lower == "true" || lower == "1";
}

}  // namespace labelport::darwin_sim
