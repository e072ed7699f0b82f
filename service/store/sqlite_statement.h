// Internal to the store layer: a thin RAII layer over the SQLite C API.
//
// Errors are absl::Status values whose message starts with the operation the
// caller names (e.g. "CreateRun: insert run"), followed by SQLite's own
// message, which names tables and columns but never bound values.
// Not thread-safe: a statement belongs to the connection's owner.
#ifndef LABELPORT_SERVICE_STORE_SQLITE_STATEMENT_H_
#define LABELPORT_SERVICE_STORE_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::store {

// A status for SQLite result code `rc` on `db` during `operation`:
// UNAVAILABLE for transient conditions (busy, locked, I/O, full disk, cannot
// open), INTERNAL otherwise.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view operation);

// Runs `sql` (one or more statements without parameters or results).
absl::Status SqliteExec(sqlite3* db, absl::string_view sql, absl::string_view operation);

// A value for a statement parameter: text or an integer (implicitly), or a
// blob (SqliteValue::Blob). Text and blobs are views: the bytes must outlive
// the binding call (they are copied when bound).
class SqliteValue {
 public:
  SqliteValue(absl::string_view text) : kind_(Kind::kText), bytes_(text) {}   // NOLINT
  SqliteValue(const std::string& text) : kind_(Kind::kText), bytes_(text) {}  // NOLINT
  SqliteValue(const char* text) : kind_(Kind::kText), bytes_(text) {}         // NOLINT
  SqliteValue(int64_t number) : kind_(Kind::kInt), number_(number) {}         // NOLINT
  SqliteValue(int number) : kind_(Kind::kInt), number_(number) {}             // NOLINT
  static SqliteValue Blob(absl::string_view bytes) {
    SqliteValue value(bytes);
    value.kind_ = Kind::kBlob;
    return value;
  }

 private:
  friend class SqliteStatement;
  enum class Kind { kText, kBlob, kInt };
  Kind kind_;
  absl::string_view bytes_;
  int64_t number_ = 0;
};

// A prepared statement. Bind indexes are 1-based, column indexes 0-based.
class SqliteStatement {
 public:
  static absl::StatusOr<SqliteStatement> Prepare(sqlite3* db, absl::string_view sql,
                                                 absl::string_view operation);
  // Prepares `sql` and binds `params` as ?1, ?2, ...
  static absl::StatusOr<SqliteStatement> Prepare(sqlite3* db, absl::string_view sql,
                                                 absl::string_view operation,
                                                 std::initializer_list<SqliteValue> params);
  // Wraps `stmt`, which stays owned by someone else (a statement cache): on
  // destruction it is reset and its bindings cleared instead of finalized.
  static SqliteStatement Borrow(sqlite3* db, sqlite3_stmt* stmt, absl::string_view operation);

  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Binders copy their argument.
  absl::Status BindText(int index, absl::string_view value);
  absl::Status BindBlob(int index, absl::string_view value);
  absl::Status BindInt64(int index, int64_t value);
  // Binds `params` as ?1, ?2, ... (after Reset(), for the next row).
  absl::Status BindAll(std::initializer_list<SqliteValue> params);

  // Advances: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps once and expects no row.
  absl::Status Run();
  // Makes the statement runnable again and clears the bindings.
  void Reset();

  // The extended result code of the last Step() (SQLITE_OK before any).
  int last_result_code() const { return last_rc_; }

  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  // Valid until the next Step(), Reset() or destruction.
  absl::string_view ColumnTextView(int column) const;
  // Valid until the next Step(), Reset() or destruction.
  absl::string_view ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, absl::string_view operation, bool owned)
      : db_(db), stmt_(stmt), operation_(operation), owned_(owned) {}
  void Release();

  absl::Status BindResult(int rc);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string operation_;
  int last_rc_ = SQLITE_OK;
  bool owned_ = true;
};

// Prepares `sql`, binds `params` as ?1, ?2, ..., runs it (expecting no
// row) and returns how many rows it changed.
absl::StatusOr<int> SqliteExecute(sqlite3* db, absl::string_view sql, absl::string_view operation,
                                  std::initializer_list<SqliteValue> params);

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_SQLITE_STATEMENT_H_
