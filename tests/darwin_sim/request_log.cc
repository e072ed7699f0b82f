#include "request_log.h"

namespace labelport::darwin_sim {

std::string RedactAuthorization(std::string_view value) {
  const size_t space = value.find(' ');
  if (space == std::string_view::npos) return "<redacted>";
  return std::string(value.substr(0, space)) + " <redacted>";
}

int64_t RequestLog::Add(LoggedRequest entry) {
  auto auth = entry.headers.find("authorization");
  if (auth != entry.headers.end()) auth->second = RedactAuthorization(auth->second);
  absl::MutexLock lock(&mu_);
  entry.seq = next_seq_++;
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
  return entries_.back().seq;
}

boost::json::array RequestLog::ToJson(int64_t after, size_t limit) const {
  absl::MutexLock lock(&mu_);
  boost::json::array out;
  for (const LoggedRequest& e : entries_) {
    if (e.seq <= after) continue;
    if (out.size() >= limit) break;
    boost::json::object o;
    o["seq"] = e.seq;
    o["time"] = e.time;
    o["method"] = e.method;
    o["path"] = e.path;
    o["query"] = e.query;
    boost::json::object headers;
    for (const auto& [k, v] : e.headers) headers[k] = v;
    o["headers"] = std::move(headers);
    o["body_size"] = e.body_size;
    o["status"] = e.status;
    o["fault"] = e.fault;
    out.push_back(std::move(o));
  }
  return out;
}

void RequestLog::Clear() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
}

}  // namespace labelport::darwin_sim
