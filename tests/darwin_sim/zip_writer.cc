#include "zip_writer.h"

#include <zip.h>

#include <memory>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::darwin_sim {
namespace {

absl::Status ZipError(absl::string_view what, zip_error_t* error) {
  return absl::InternalError(absl::StrCat(what, ": ", zip_error_strerror(error)));
}

}  // namespace

absl::StatusOr<std::string> BuildZip(const std::vector<ZipEntry>& entries) {
  std::set<std::string> names;
  for (const ZipEntry& e : entries) {
    if (e.name.empty()) return absl::InvalidArgumentError("empty zip entry name");
    if (!names.insert(e.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate zip entry ", e.name));
    }
  }
  // libzip writes nothing for an archive without entries; an empty zip is
  // just the end-of-central-directory record (signature, then zeros).
  if (entries.empty()) return std::string("PK\x05\x06", 4) + std::string(18, '\0');
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) return ZipError("zip_source_buffer_create", &error);
  // Keep the buffer source alive after zip_close so its bytes can be read.
  zip_source_keep(buffer);
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> buffer_owner(buffer, &zip_source_free);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) return ZipError("zip_open_from_source", &error);
  for (const ZipEntry& e : entries) {
    zip_source_t* src = zip_source_buffer(archive, e.content.data(), e.content.size(), 0);
    if (src == nullptr) {
      absl::Status s = ZipError("zip_source_buffer", zip_get_error(archive));
      zip_discard(archive);
      return s;
    }
    if (zip_file_add(archive, e.name.c_str(), src, ZIP_FL_ENC_UTF_8) < 0) {
      absl::Status s = ZipError(absl::StrCat("zip_file_add ", e.name), zip_get_error(archive));
      zip_source_free(src);
      zip_discard(archive);
      return s;
    }
  }
  if (zip_close(archive) < 0) {
    absl::Status s = ZipError("zip_close", zip_get_error(archive));
    zip_discard(archive);
    return s;
  }
  if (zip_source_open(buffer) < 0) return ZipError("zip_source_open", zip_source_error(buffer));
  std::string out;
  char chunk[65536];
  while (true) {
    const zip_int64_t n = zip_source_read(buffer, chunk, sizeof(chunk));
    if (n < 0) {
      zip_source_close(buffer);
      return ZipError("zip_source_read", zip_source_error(buffer));
    }
    if (n == 0) break;
    out.append(chunk, static_cast<size_t>(n));
  }
  zip_source_close(buffer);
  return out;
}

}  // namespace labelport::darwin_sim
