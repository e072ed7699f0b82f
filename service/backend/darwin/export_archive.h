// Reading a V7 export zip (spec: darwin-api.md §4.2): one Darwin JSON 2.0
// file per item at the zip root, plus `.v7/metadata.json` and possibly other
// files that labelport ignores.
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_EXPORT_ARCHIVE_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_EXPORT_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace labelport::backend::darwin {

// The largest export entry read into memory.
inline constexpr int64_t kMaxExportEntryBytes = int64_t{256} << 20;

// Reads the root `*.json` entries of an export zip one at a time, in archive
// order (the entries ForEachExportEntry passes to its `fn`, with the same
// errors). For a caller that must not block while it holds an entry (a
// coroutine hands each Next() to the CPU pool). One reader is used by one
// thread at a time; it may move between threads.
class ExportEntryReader {
 public:
  ~ExportEntryReader();
  ExportEntryReader(const ExportEntryReader&) = delete;
  ExportEntryReader& operator=(const ExportEntryReader&) = delete;

  static absl::StatusOr<std::unique_ptr<ExportEntryReader>> Open(
      const std::string& zip_path, int64_t max_entry_bytes = kMaxExportEntryBytes);

  // Reads the next entry into `name` and `contents`; false after the last.
  absl::StatusOr<bool> Next(std::string* name, std::string* contents);

 private:
  struct Archive;
  ExportEntryReader(std::string zip_path, int64_t max_entry_bytes, std::unique_ptr<Archive> a);

  const std::string zip_path_;
  const int64_t max_entry_bytes_;
  std::unique_ptr<Archive> archive_;
  int64_t next_index_ = 0;
};

// Calls `fn` with the name and the uncompressed contents of every `*.json`
// entry at the root of the zip at `zip_path`, in archive order. Directories,
// entries in folders (`.v7/metadata.json`, ...), hidden root files and
// non-JSON files are skipped. One entry is held in memory at a time; the
// views passed to `fn` are valid only during the call.
//
// Errors name the zip file (and the entry, when there is one):
//   NOT_FOUND          the file does not exist;
//   INVALID_ARGUMENT   not a zip, or a corrupt/inconsistent archive;
//   DATA_LOSS          an entry that cannot be read back whole (truncated
//                      file, CRC mismatch, size mismatch);
//   RESOURCE_EXHAUSTED an entry larger than `max_entry_bytes`;
//   the first error `fn` returns, which stops the iteration.
// Thread-safety: independent calls may run concurrently.
absl::Status ForEachExportEntry(
    const std::string& zip_path,
    const std::function<absl::Status(absl::string_view entry_name, absl::string_view contents)>& fn,
    int64_t max_entry_bytes = kMaxExportEntryBytes);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_EXPORT_ARCHIVE_H_
