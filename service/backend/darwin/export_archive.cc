#include "service/backend/darwin/export_archive.h"

#include <zip.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace labelport::backend::darwin {
namespace {

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

// Mirrors DFO's non-recursive `*.json` glob at the extraction root (§4.4).
bool IsRootJson(absl::string_view name) {
  return !name.empty() && name.front() != '.' && !absl::StrContains(name, '/') &&
         !absl::StrContains(name, '\\') && absl::EndsWith(name, ".json");
}

std::string Where(absl::string_view zip_path, absl::string_view entry) {
  return absl::StrCat("export zip '", zip_path, "', entry '", entry, "'");
}

absl::Status OpenError(const std::string& zip_path, int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message =
      absl::StrCat("export zip '", zip_path, "' cannot be opened: ", zip_error_strerror(&error));
  zip_error_fini(&error);
  switch (code) {
    case ZIP_ER_NOENT:
      return absl::NotFoundError(message);
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_MEMORY:
      return absl::UnavailableError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

}  // namespace

struct ExportEntryReader::Archive {
  std::unique_ptr<zip_t, ZipCloser> zip;
  zip_int64_t count = 0;
};

ExportEntryReader::ExportEntryReader(std::string zip_path, int64_t max_entry_bytes,
                                     std::unique_ptr<Archive> archive)
    : zip_path_(std::move(zip_path)),
      max_entry_bytes_(max_entry_bytes),
      archive_(std::move(archive)) {}

ExportEntryReader::~ExportEntryReader() = default;

absl::StatusOr<std::unique_ptr<ExportEntryReader>> ExportEntryReader::Open(
    const std::string& zip_path, int64_t max_entry_bytes) {
  int code = 0;
  auto archive = std::make_unique<Archive>();
  // ZIP_CHECKCONS catches truncated and inconsistent archives at open time.
  archive->zip.reset(zip_open(zip_path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (archive->zip == nullptr) return OpenError(zip_path, code);
  archive->count = zip_get_num_entries(archive->zip.get(), 0);
  if (archive->count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("export zip '", zip_path, "' has no readable central directory"));
  }
  return std::unique_ptr<ExportEntryReader>(
      new ExportEntryReader(zip_path, max_entry_bytes, std::move(archive)));
}

absl::StatusOr<bool> ExportEntryReader::Next(std::string* name_out, std::string* contents) {
  zip_t* zip = archive_->zip.get();
  const std::string& zip_path = zip_path_;
  for (; next_index_ < archive_->count; ++next_index_) {
    const zip_int64_t i = next_index_;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_NAME) == 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("export zip '", zip_path, "', entry #", i, ": ", zip_strerror(zip)));
    }
    absl::string_view name(st.name);
    if (!IsRootJson(name)) continue;
    if (st.size > static_cast<zip_uint64_t>(max_entry_bytes_)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          Where(zip_path, name), " is ", st.size, " bytes, over the limit of ", max_entry_bytes_));
    }
    std::unique_ptr<zip_file_t, ZipFileCloser> file(
        zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0));
    if (file == nullptr) {
      return absl::DataLossError(
          absl::StrCat(Where(zip_path, name), " cannot be opened: ", zip_strerror(zip)));
    }
    // One byte more than announced, to notice an entry longer than its header.
    contents->resize(static_cast<size_t>(st.size) + 1);
    zip_uint64_t total = 0;
    while (total < contents->size()) {
      zip_int64_t n = zip_fread(file.get(), contents->data() + total, contents->size() - total);
      if (n < 0) {
        return absl::DataLossError(absl::StrCat(
            Where(zip_path, name), " cannot be read: ", zip_file_strerror(file.get())));
      }
      if (n == 0) break;
      total += static_cast<zip_uint64_t>(n);
    }
    if (total != st.size) {
      return absl::DataLossError(
          absl::StrCat(Where(zip_path, name), " has ", total, " bytes, its header says ", st.size));
    }
    contents->resize(static_cast<size_t>(total));
    name_out->assign(name.data(), name.size());
    ++next_index_;
    return true;
  }
  return false;
}

absl::Status ForEachExportEntry(
    const std::string& zip_path,
    const std::function<absl::Status(absl::string_view entry_name, absl::string_view contents)>& fn,
    int64_t max_entry_bytes) {
  auto reader = ExportEntryReader::Open(zip_path, max_entry_bytes);
  if (!reader.ok()) return reader.status();
  std::string name;
  std::string contents;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&name, &contents);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    absl::Status status = fn(name, contents);
    if (!status.ok()) return status;
  }
}

}  // namespace labelport::backend::darwin
