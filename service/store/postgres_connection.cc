#include "service/store/postgres_connection.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace labelport::store {
namespace {

constexpr absl::string_view kSqlStatePayload = "labelport.dev/sqlstate";
constexpr absl::string_view kConstraintPayload = "labelport.dev/pg-constraint";

// The user-info password of a URL, as written ("" when none).
absl::string_view UrlPassword(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  absl::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('?'));
  const size_t at = rest.rfind('@');
  if (at == absl::string_view::npos) return "";
  absl::string_view user_info = rest.substr(0, at);
  const size_t colon = user_info.find(':');
  if (colon == absl::string_view::npos) return "";
  return user_info.substr(colon + 1);
}

// `password=` values of a URL query or of a key=value string.
std::vector<std::string> ParameterPasswords(absl::string_view url) {
  std::vector<std::string> out;
  const bool is_url = absl::StrContains(url, "://");
  if (is_url) {
    const size_t query = url.find('?');
    if (query == absl::string_view::npos) return out;
    for (absl::string_view pair : absl::StrSplit(url.substr(query + 1), '&')) {
      if (absl::ConsumePrefix(&pair, "password=")) out.emplace_back(pair);
    }
    return out;
  }
  size_t pos = 0;
  while ((pos = url.find("password", pos)) != absl::string_view::npos) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(url.substr(pos + 8));
    pos += 8;
    if (!absl::ConsumePrefix(&rest, "=")) continue;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (absl::ConsumePrefix(&rest, "'")) {
      out.emplace_back(rest.substr(0, rest.find('\'')));
    } else {
      out.emplace_back(rest.substr(0, rest.find_first_of(" \t\n")));
    }
  }
  return out;
}

std::string PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int value = 0;
    if (text[i] == '%' && i + 2 < text.size() &&
        absl::SimpleHexAtoi(text.substr(i + 1, 2), &value)) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Every spelling of the password(s) `url` holds, longest first so that a
// scrub never leaves the tail of a longer one behind.
std::vector<std::string> Secrets(absl::string_view url) {
  std::vector<std::string> raw = ParameterPasswords(url);
  raw.emplace_back(UrlPassword(url));
  const std::string url_string(url);
  char* error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(url_string.c_str(), &error)) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr) {
        raw.emplace_back(option->val);
      }
    }
    PQconninfoFree(options);
  }
  PQfreemem(error);
  std::vector<std::string> secrets;
  for (const std::string& secret : raw) {
    if (secret.empty()) continue;
    secrets.push_back(secret);
    secrets.push_back(PercentDecode(secret));
  }
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

std::string ScrubWith(absl::string_view message, const std::vector<std::string>& secrets) {
  std::string out(message);
  for (const std::string& secret : secrets) {
    if (!secret.empty()) absl::StrReplaceAll({{secret, "****"}}, &out);
  }
  return out;
}

absl::StatusCode CodeForSqlState(absl::string_view state) {
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "53") ||
      absl::StartsWith(state, "57P")) {
    return absl::StatusCode::kUnavailable;
  }
  if (absl::StartsWith(state, "22")) return absl::StatusCode::kInvalidArgument;
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  return absl::StatusCode::kInternal;
}

std::string TrimMessage(absl::string_view message) {
  return std::string(absl::StripTrailingAsciiWhitespace(message));
}

}  // namespace

std::string RedactPostgresUrl(absl::string_view url) { return ScrubWith(url, Secrets(url)); }

bool IsPostgresUrl(absl::string_view url) {
  return absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://");
}

int64_t PgResult::affected_rows() const {
  int64_t rows = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(result_.get()), &rows)) return 0;
  return rows;
}

std::string PgResult::Bytes(int row, int column) const { return std::string(View(row, column)); }

absl::string_view PgResult::View(int row, int column) const {
  return absl::string_view(PQgetvalue(result_.get(), row, column),
                           static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t PgResult::Int(int row, int column) const {
  const char* bytes = PQgetvalue(result_.get(), row, column);
  switch (PQgetlength(result_.get(), row, column)) {
    case 2: {
      uint16_t value;
      std::memcpy(&value, bytes, 2);
      return static_cast<int16_t>(ntohs(value));
    }
    case 4: {
      uint32_t value;
      std::memcpy(&value, bytes, 4);
      return static_cast<int32_t>(ntohl(value));
    }
    case 8: {
      uint32_t high, low;
      std::memcpy(&high, bytes, 4);
      std::memcpy(&low, bytes + 4, 4);
      return static_cast<int64_t>((static_cast<uint64_t>(ntohl(high)) << 32) | ntohl(low));
    }
    default:
      return 0;
  }
}

absl::StatusOr<std::unique_ptr<PostgresConnection>> PostgresConnection::Connect(
    const std::string& url) {
  std::vector<std::string> secrets = Secrets(url);
  const std::string redacted = ScrubWith(url, secrets);
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error != nullptr ? TrimMessage(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return absl::InvalidArgumentError(
        ScrubWith(absl::StrCat("the PostgreSQL URL '", redacted, "' is malformed: ", message,
                               " (expected postgresql://user:password@host:port/database)"),
                  secrets));
  }
  PQconninfoFree(parsed);
  // Defaults first: the URL's own settings override them. TCP keepalives
  // notice a server (or network path) that vanished within about a minute
  // instead of the system's two hours.
  const char* keywords[] = {"connect_timeout",
                            "application_name",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "dbname",
                            nullptr};
  const char* values[] = {"10", "labelport", "30", "10", "3", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = TrimMessage(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(ScrubWith(
        absl::StrCat("cannot connect to PostgreSQL at '", redacted, "': ", message), secrets));
  }
  // Notices (e.g. "relation already exists, skipping") are not errors and
  // would otherwise go to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(conn, std::move(secrets)));
}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

std::string PostgresConnection::Scrub(absl::string_view message) const {
  return ScrubWith(message, secrets_);
}

absl::Status PostgresConnection::ResultError(PGresult* result, absl::string_view operation) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = TrimMessage(result != nullptr ? PQresultErrorMessage(result) : "");
  if (message.empty()) message = TrimMessage(PQerrorMessage(conn_));
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (state != nullptr) {
    code = CodeForSqlState(state);
  } else if (PQstatus(conn_) != CONNECTION_OK) {
    code = absl::StatusCode::kUnavailable;
  }
  absl::Status status(code, Scrub(absl::StrCat(operation, ": ", message)));
  if (state != nullptr) status.SetPayload(kSqlStatePayload, absl::Cord(state));
  const char* constraint =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  if (constraint != nullptr) status.SetPayload(kConstraintPayload, absl::Cord(constraint));
  return status;
}

absl::Status PostgresConnection::ExecScript(absl::string_view sql, absl::string_view operation) {
  const std::string text(sql);
  PGresult* raw = PQexec(conn_, text.c_str());
  PgResult result(raw);
  const ExecStatusType status = PQresultStatus(raw);
  if (raw == nullptr || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)) {
    return ResultError(raw, operation);
  }
  return absl::OkStatus();
}

absl::StatusOr<PgResult> PostgresConnection::Exec(absl::string_view sql,
                                                  const std::vector<PgParam>& params,
                                                  absl::string_view operation) {
  const std::string text(sql);
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  PGresult* raw = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
  PgResult result(raw);
  const ExecStatusType status = PQresultStatus(raw);
  if (raw == nullptr || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)) {
    return ResultError(raw, operation);
  }
  return result;
}

absl::Status PostgresConnection::CopyIn(absl::string_view copy_sql, absl::string_view data,
                                        absl::string_view operation) {
  const std::string text(copy_sql);
  {
    PGresult* raw = PQexec(conn_, text.c_str());
    PgResult start(raw);
    if (raw == nullptr || PQresultStatus(raw) != PGRES_COPY_IN) return ResultError(raw, operation);
  }
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t offset = 0; offset < data.size() && sent; offset += kChunk) {
    const absl::string_view chunk = data.substr(offset, kChunk);
    sent = PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "labelport: sending the data failed") != 1) {
    sent = false;
  }
  absl::Status status = absl::OkStatus();
  while (PGresult* raw = PQgetResult(conn_)) {
    PgResult result(raw);
    if (status.ok() && PQresultStatus(raw) != PGRES_COMMAND_OK) {
      status = ResultError(raw, operation);
    }
  }
  if (status.ok() && !sent) status = ResultError(nullptr, operation);
  return status;
}

absl::StatusOr<std::vector<std::string>> PostgresConnection::ReceiveNotifications(
    absl::string_view operation) {
  if (PQconsumeInput(conn_) != 1 || PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(
        Scrub(absl::StrCat(operation, ": ", TrimMessage(PQerrorMessage(conn_)))));
  }
  std::vector<std::string> payloads;
  while (PGnotify* notification = PQnotifies(conn_)) {
    payloads.emplace_back(notification->extra != nullptr ? notification->extra : "");
    PQfreemem(notification);
  }
  return payloads;
}

std::string PgSqlState(const absl::Status& status) {
  auto state = status.GetPayload(kSqlStatePayload);
  return state.has_value() ? std::string(*state) : std::string();
}

std::string PgConstraint(const absl::Status& status) {
  auto constraint = status.GetPayload(kConstraintPayload);
  return constraint.has_value() ? std::string(*constraint) : std::string();
}

std::string PgQuoteLiteral(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

std::string PgQuoteIdentifier(absl::string_view name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

void AppendCopyText(absl::string_view value, std::string& row) {
  for (char c : value) {
    switch (c) {
      case '\\':
        row += "\\\\";
        break;
      case '\t':
        row += "\\t";
        break;
      case '\n':
        row += "\\n";
        break;
      case '\r':
        row += "\\r";
        break;
      default:
        row += c;
    }
  }
}

void AppendCopyBytea(absl::string_view value, std::string& row) {
  static constexpr char kHex[] = "0123456789abcdef";
  // COPY unescapes "\\x" to the bytea input "\x".
  row += "\\\\x";
  for (unsigned char c : value) {
    row += kHex[c >> 4];
    row += kHex[c & 0xf];
  }
}

}  // namespace labelport::store
