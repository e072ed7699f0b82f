// Internal to the store layer: a thin RAII layer over the libpq C API.
//
// Statements are sent with PQexecParams: integers as text parameters,
// strings and bytes as binary ones, results always in binary format (an
// int8 column arrives as 8 big-endian bytes, text and bytea as their raw
// bytes). Errors are absl::Status values whose message starts with the
// operation the caller names (e.g. "CreateRun: insert run"), followed by the
// server's message, which names tables and constraints but never parameter
// values. Every message passes through the connection's secret scrubber, so
// the password of the connection URL never appears in one.
//
// Status codes: UNAVAILABLE when the server cannot be reached or the
// connection broke (SQLSTATE classes 08, 53, 57P0x); INVALID_ARGUMENT for
// data the server rejects (class 22); ABORTED for serialisation failures and
// deadlocks (40001, 40P01); INTERNAL otherwise. Unique violations (23505)
// are INTERNAL too, with the SQLSTATE kept so callers can recognise them.
// Not thread-safe: a connection belongs to one thread at a time (see
// PostgresConnectionPool).
#ifndef LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_H_
#define LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::store {

// The connection URL with any password replaced by "****" (the user-info
// password and a `password=` query parameter), for logs and messages.
std::string RedactPostgresUrl(absl::string_view url);

// Whether `url` is a postgresql:// (or postgres://) URL.
bool IsPostgresUrl(absl::string_view url);

// One statement parameter. Text goes in binary format, which for text is
// its raw bytes with an explicit length: libpq would cut a text-format value
// at a NUL byte, while the server rejects one it is sent (INVALID_ARGUMENT).
struct PgParam {
  static PgParam Text(absl::string_view value) { return {std::string(value), true, false}; }
  static PgParam Int(int64_t value) { return {std::to_string(value), false, false}; }
  static PgParam Bytes(absl::string_view value) { return {std::string(value), true, false}; }
  static PgParam Null() { return {std::string(), false, true}; }

  std::string value;
  bool binary = false;
  bool null = false;
};

// A statement's result (binary format). Row and column indexes are 0-based.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  // Rows changed by an INSERT / UPDATE / DELETE.
  int64_t affected_rows() const;
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // A text or bytea column's raw bytes.
  std::string Bytes(int row, int column) const;
  absl::string_view View(int row, int column) const;
  // An int2, int4 or int8 column.
  int64_t Int(int row, int column) const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class PostgresConnection {
 public:
  // Connects to `url` (a postgresql:// URL or a libpq key=value string).
  // INVALID_ARGUMENT when libpq cannot parse it, UNAVAILABLE when the server
  // cannot be reached or refuses the credentials. Messages name the URL
  // with its password redacted.
  static absl::StatusOr<std::unique_ptr<PostgresConnection>> Connect(const std::string& url);

  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // Runs `sql` without parameters; it may hold several statements (BEGIN,
  // COMMIT, a migration). Results are discarded.
  absl::Status ExecScript(absl::string_view sql, absl::string_view operation);
  // Runs one statement with $1..$n parameters.
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const std::vector<PgParam>& params,
                                absl::string_view operation);
  // COPY ... FROM STDIN with `data` in COPY text format.
  absl::Status CopyIn(absl::string_view copy_sql, absl::string_view data,
                      absl::string_view operation);

  // Asynchronous notifications (after LISTEN): the socket to poll() for
  // input, and the payloads of the NOTIFY messages received so far (reads
  // what the server sent without waiting). UNAVAILABLE when the connection
  // broke.
  int socket() const { return PQsocket(conn_); }
  absl::StatusOr<std::vector<std::string>> ReceiveNotifications(absl::string_view operation);

  // False once the connection broke; a broken connection is not reused.
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // True when no transaction is open.
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

 private:
  PostgresConnection(PGconn* conn, std::vector<std::string> secrets)
      : conn_(conn), secrets_(std::move(secrets)) {}

  absl::Status ResultError(PGresult* result, absl::string_view operation) const;
  std::string Scrub(absl::string_view message) const;

  PGconn* const conn_;
  // The password(s) of the URL, removed from every message.
  const std::vector<std::string> secrets_;
};

// The SQLSTATE a status from PostgresConnection carries ("" when none).
std::string PgSqlState(const absl::Status& status);

// The constraint a status from PostgresConnection names ("" when none).
std::string PgConstraint(const absl::Status& status);

inline constexpr absl::string_view kPgUniqueViolation = "23505";

// Quotes `text` as an SQL string literal ('...' with quotes doubled).
std::string PgQuoteLiteral(absl::string_view text);
// Quotes `name` as an SQL identifier ("..." with quotes doubled).
std::string PgQuoteIdentifier(absl::string_view name);

// Appends `value` to a COPY text-format row, escaped; `bytes` values are
// written as bytea hex (\\x...).
void AppendCopyText(absl::string_view value, std::string& row);
void AppendCopyBytea(absl::string_view value, std::string& row);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_POSTGRES_CONNECTION_H_
