#include "service/store/sqlite_statement.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace labelport::store {

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view operation) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = absl::StrCat(operation, ": ", detail, " (", sqlite3_errstr(rc), ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status SqliteExec(sqlite3* db, absl::string_view sql, absl::string_view operation) {
  int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, operation);
  return absl::OkStatus();
}

absl::StatusOr<SqliteStatement> SqliteStatement::Prepare(sqlite3* db, absl::string_view sql,
                                                         absl::string_view operation) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db, rc, absl::StrCat(operation, " (prepare)"));
  }
  return SqliteStatement(db, stmt, operation, /*owned=*/true);
}

absl::StatusOr<SqliteStatement> SqliteStatement::Prepare(
    sqlite3* db, absl::string_view sql, absl::string_view operation,
    std::initializer_list<SqliteValue> params) {
  absl::StatusOr<SqliteStatement> statement = Prepare(db, sql, operation);
  if (!statement.ok()) return statement;
  if (absl::Status bound = statement->BindAll(params); !bound.ok()) return bound;
  return statement;
}

absl::Status SqliteStatement::BindAll(std::initializer_list<SqliteValue> params) {
  int index = 1;
  for (const SqliteValue& param : params) {
    absl::Status bound;
    switch (param.kind_) {
      case SqliteValue::Kind::kText:
        bound = BindText(index, param.bytes_);
        break;
      case SqliteValue::Kind::kBlob:
        bound = BindBlob(index, param.bytes_);
        break;
      case SqliteValue::Kind::kInt:
        bound = BindInt64(index, param.number_);
        break;
    }
    if (!bound.ok()) return bound;
    ++index;
  }
  return absl::OkStatus();
}

SqliteStatement SqliteStatement::Borrow(sqlite3* db, sqlite3_stmt* stmt,
                                        absl::string_view operation) {
  return SqliteStatement(db, stmt, operation, /*owned=*/false);
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      operation_(std::move(other.operation_)),
      last_rc_(other.last_rc_),
      owned_(other.owned_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    operation_ = std::move(other.operation_);
    last_rc_ = other.last_rc_;
    owned_ = other.owned_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { Release(); }

void SqliteStatement::Release() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  stmt_ = nullptr;
}

absl::Status SqliteStatement::BindResult(int rc) {
  if (rc != SQLITE_OK) {
    return SqliteError(db_, rc, absl::StrCat(operation_, " (bind)"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStatement::BindText(int index, absl::string_view value) {
  return BindResult(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

absl::Status SqliteStatement::BindBlob(int index, absl::string_view value) {
  // A null pointer would bind NULL; an empty message must stay an empty blob.
  static constexpr char kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  return BindResult(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
}

absl::Status SqliteStatement::BindInt64(int index, int64_t value) {
  return BindResult(sqlite3_bind_int64(stmt_, index, value));
}

absl::StatusOr<bool> SqliteStatement::Step() {
  last_rc_ = sqlite3_step(stmt_);
  if (last_rc_ == SQLITE_ROW) return true;
  if (last_rc_ == SQLITE_DONE) return false;
  return SqliteError(db_, last_rc_, operation_);
}

absl::Status SqliteStatement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) {
    return absl::InternalError(absl::StrCat(operation_, ": statement returned an unexpected row"));
  }
  return absl::OkStatus();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  last_rc_ = SQLITE_OK;
}

int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::string_view SqliteStatement::ColumnTextView(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::string_view SqliteStatement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return absl::string_view();
  return absl::string_view(static_cast<const char*>(blob),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<int> SqliteExecute(sqlite3* db, absl::string_view sql, absl::string_view operation,
                                  std::initializer_list<SqliteValue> params) {
  absl::StatusOr<SqliteStatement> statement = SqliteStatement::Prepare(db, sql, operation, params);
  if (!statement.ok()) return statement.status();
  if (absl::Status ran = statement->Run(); !ran.ok()) return ran;
  return sqlite3_changes(db);
}

}  // namespace labelport::store
