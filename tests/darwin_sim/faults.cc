#include "faults.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "json_util.h"

namespace labelport::darwin_sim {

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

absl::StatusOr<Fault> FaultFromJson(const json::object& o) {
  Fault f;
  f.method = absl::AsciiStrToUpper(GetString(o, "method", "*"));
  f.path_pattern = GetString(o, "path", "*");
  f.remaining = GetInt(o, "count").value_or(1);
  f.status = static_cast<int>(GetInt(o, "status").value_or(0));
  f.body = GetString(o, "body");
  f.retry_after_s = GetInt(o, "retry_after").value_or(-1);
  f.latency_ms = GetInt(o, "latency_ms").value_or(0);
  if (auto it = o.find("probability"); it != o.end()) {
    if (!it->value().is_number()) return absl::InvalidArgumentError("probability must be a number");
    f.probability = it->value().to_number<double>();
    if (!(f.probability > 0 && f.probability <= 1))
      return absl::InvalidArgumentError("probability must be in (0, 1]");
  }
  const std::string action = GetString(o, "action", "status");
  if (action == "status") {
    f.action = FaultAction::kNone;
  } else if (action == "drop") {
    f.action = FaultAction::kDrop;
  } else if (action == "truncate") {
    f.action = FaultAction::kTruncate;
  } else if (action == "malformed") {
    f.action = FaultAction::kMalformed;
  } else {
    return absl::InvalidArgumentError("action must be status, drop, truncate or malformed");
  }
  if (f.remaining <= 0) return absl::InvalidArgumentError("count must be positive");
  if (f.status != 0 && (f.status < 100 || f.status > 599)) {
    return absl::InvalidArgumentError("status must be an HTTP status code");
  }
  if (f.action == FaultAction::kNone && f.status == 0 && f.latency_ms == 0) {
    return absl::InvalidArgumentError("a status fault needs status or latency_ms");
  }
  return f;
}

json::object FaultToJson(const Fault& f) {
  static constexpr const char* kActions[] = {"status", "drop", "truncate", "malformed"};
  json::object o;
  o["id"] = f.id;
  o["method"] = f.method;
  o["path"] = f.path_pattern;
  o["remaining"] = f.remaining;
  o["status"] = f.status;
  o["retry_after"] = f.retry_after_s;
  o["latency_ms"] = f.latency_ms;
  o["action"] = kActions[static_cast<int>(f.action)];
  o["probability"] = f.probability;
  return o;
}

int64_t FaultRegistry::Add(Fault f) {
  absl::MutexLock lock(&mu_);
  f.id = next_id_++;
  faults_.push_back(std::move(f));
  return faults_.back().id;
}

std::optional<Fault> FaultRegistry::Take(std::string_view method, std::string_view path) {
  absl::MutexLock lock(&mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && it->method != "*" && it->method != method) continue;
    if (!GlobMatch(it->path_pattern, path)) continue;
    if (it->probability < 1 &&
        std::uniform_real_distribution<double>(0, 1)(rng_) >= it->probability)
      continue;
    Fault out = *it;
    if (--it->remaining <= 0) faults_.erase(it);
    return out;
  }
  return std::nullopt;
}

void FaultRegistry::Clear() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
}

std::vector<Fault> FaultRegistry::List() const {
  absl::MutexLock lock(&mu_);
  return faults_;
}

}  // namespace labelport::darwin_sim
