#include "service/store/content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "service/common/content_path.h"
#include "service/common/errors.h"

namespace labelport::store {
namespace {

constexpr absl::string_view kDigestPrefix = "sha256:";
constexpr size_t kHexLength = 64;
// Older temporary files than this belong to no live upload.
constexpr auto kStaleTempAge = std::chrono::hours(24);

absl::Status IoError(absl::string_view what, const std::string& path, int error) {
  const std::string message =
      absl::StrCat("cannot ", what, " '", path, "': ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::UnavailableError(message);
}

// Makes a rename inside `dir` durable; best effort, as some file systems
// refuse fsync on directories.
void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void RemoveStaleTempFiles(const std::string& temp_dir) {
  std::error_code ec;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& entry : std::filesystem::directory_iterator(temp_dir, ec)) {
    std::error_code entry_ec;
    const auto modified = entry.last_write_time(entry_ec);
    if (!entry_ec && entry.is_regular_file(entry_ec) && now - modified > kStaleTempAge)
      std::filesystem::remove(entry.path(), entry_ec);
  }
}

// The bytes of the regular files under `dir` (the verified contents).
int64_t BytesUnder(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    if (it->is_regular_file(entry_ec)) {
      const auto size = it->file_size(entry_ec);
      if (!entry_ec) total += static_cast<int64_t>(size);
    }
  }
  return total;
}

}  // namespace

absl::Status ContentUsage::Reserve(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (limit_ > 0 && stored_ + reserved_ + bytes > limit_)
    return common::WithDetails(
        absl::ResourceExhaustedError(absl::StrFormat(
            "Storing %d more bytes would exceed this tenant's media quota of %d bytes "
            "(--max_media_bytes_per_tenant; %d bytes stored, %d being uploaded)",
            bytes, limit_, stored_, reserved_)),
        "header.size_bytes", "TENANT_MEDIA_QUOTA");
  reserved_ += bytes;
  return absl::OkStatus();
}

void ContentUsage::Settle(int64_t reserved_bytes, bool stored) {
  absl::MutexLock lock(&mu_);
  reserved_ -= reserved_bytes;
  if (stored) stored_ += reserved_bytes;
}

int64_t ContentUsage::stored_bytes() const {
  absl::MutexLock lock(&mu_);
  return stored_;
}

ContentWriter::ContentWriter(std::string digest, int64_t size_bytes, std::string final_path,
                             std::string temp_path, int fd, std::shared_ptr<ContentUsage> usage)
    : digest_(std::move(digest)),
      size_bytes_(size_bytes),
      final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      usage_(std::move(usage)) {}

ContentWriter::~ContentWriter() { Discard(); }

void ContentWriter::Discard() {
  if (usage_ != nullptr) {
    usage_->Settle(reserved_bytes_, /*stored=*/false);
    usage_.reset();
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
  spent_ = true;
}

absl::Status ContentWriter::Fail(absl::Status status) {
  Discard();
  return status;
}

absl::Status ContentWriter::Append(absl::string_view chunk) {
  if (spent_)
    return absl::FailedPreconditionError(
        absl::StrCat("the writer of ", digest_, " was already committed or failed"));
  if (static_cast<int64_t>(chunk.size()) > size_bytes_ - written_)
    return Fail(common::InvalidArgument(
        "header.size_bytes", "CONTENT_SIZE_EXCEEDED",
        absl::StrFormat("Content %s is larger than the announced size_bytes %d: "
                        "received %d bytes so far",
                        digest_, size_bytes_, written_ + static_cast<int64_t>(chunk.size()))));
  if (absl::Status hashed = sha256_.Update(chunk); !hashed.ok()) return Fail(hashed);
  const char* data = chunk.data();
  size_t left = chunk.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(IoError("write the temporary media file", temp_path_, errno));
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  written_ += static_cast<int64_t>(chunk.size());
  return absl::OkStatus();
}

absl::StatusOr<StoredContent> ContentWriter::Commit() {
  if (spent_)
    return absl::FailedPreconditionError(
        absl::StrCat("the writer of ", digest_, " was already committed or failed"));
  if (written_ != size_bytes_)
    return Fail(common::InvalidArgument(
        "header.size_bytes", "CONTENT_SIZE_MISMATCH",
        absl::StrFormat("Content %s: expected size_bytes %d, received %d bytes", digest_,
                        size_bytes_, written_)));
  absl::StatusOr<std::string> hex = sha256_.FinishHex();
  if (!hex.ok()) return Fail(hex.status());
  const std::string actual = absl::StrCat(kDigestPrefix, *hex);
  if (actual != digest_)
    return Fail(common::InvalidArgument(
        "header.content_digest", "CONTENT_DIGEST_MISMATCH",
        absl::StrFormat("Content digest mismatch: expected %s, the %d bytes received hash to %s",
                        digest_, written_, actual)));

  StoredContent stored{.content_digest = digest_, .size_bytes = size_bytes_};
  struct stat existing;
  if (::stat(final_path_.c_str(), &existing) == 0) {
    Discard();
    stored.already_present = true;
    return stored;
  }
  if (::fsync(fd_) != 0) return Fail(IoError("flush", temp_path_, errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Fail(IoError("close", temp_path_, errno));
  }
  fd_ = -1;
  const std::string dir = std::filesystem::path(final_path_).parent_path().string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot create the media directory '", dir, "': ", ec.message())));
  // rename() replaces atomically: a concurrent writer of the same digest
  // either finds our file or replaces it with identical bytes.
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    return Fail(IoError("move the uploaded media into place at", final_path_, errno));
  temp_path_.clear();
  spent_ = true;
  usage_->Settle(reserved_bytes_, /*stored=*/true);
  usage_.reset();
  SyncDirectory(dir);
  return stored;
}

absl::StatusOr<std::unique_ptr<FileContentStore>> FileContentStore::Create(std::string media_dir,
                                                                           Options options) {
  if (media_dir.empty()) return absl::InvalidArgumentError("the media directory is empty");
  for (const char* sub : {"/sha256", "/tmp"}) {
    const std::string dir = absl::StrCat(media_dir, sub);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return absl::UnavailableError(
          absl::StrCat("cannot create the media directory '", dir, "': ", ec.message()));
  }
  RemoveStaleTempFiles(absl::StrCat(media_dir, "/tmp"));
  auto usage = std::make_shared<ContentUsage>(BytesUnder(absl::StrCat(media_dir, "/sha256")),
                                              options.max_stored_bytes);
  return std::unique_ptr<FileContentStore>(
      new FileContentStore(std::move(media_dir), std::move(usage)));
}

std::string FileContentStore::ContentPath(absl::string_view media_dir, absl::string_view digest) {
  return common::ContentPath(media_dir, digest);
}
absl::Status FileContentStore::ValidateDigest(absl::string_view digest, absl::string_view field) {
  absl::string_view hex = digest;
  bool ok = absl::ConsumePrefix(&hex, kDigestPrefix) && hex.size() == kHexLength;
  for (size_t i = 0; ok && i < hex.size(); ++i)
    ok = absl::ascii_isdigit(hex[i]) || (hex[i] >= 'a' && hex[i] <= 'f');
  if (ok) return absl::OkStatus();
  return common::InvalidArgument(
      field, "INVALID_CONTENT_DIGEST",
      // Wide enough to show a whole digest-shaped value (71 bytes).
      absl::StrCat("Invalid ", field, " '", common::Truncated(digest, 80),
                   "': expected \"sha256:\" followed by 64 lowercase hex digits"));
}

absl::StatusOr<bool> FileContentStore::Contains(absl::string_view digest) const {
  if (absl::Status valid = ValidateDigest(digest, "content_digest"); !valid.ok()) return valid;
  struct stat st;
  const std::string path = ContentPath(media_dir_, digest);
  if (::stat(path.c_str(), &st) == 0) return S_ISREG(st.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return IoError("look up", path, errno);
}

absl::StatusOr<std::vector<std::string>> FileContentStore::FindMissing(
    absl::Span<const std::string> digests) const {
  for (size_t i = 0; i < digests.size(); ++i) {
    if (absl::Status valid = ValidateDigest(digests[i], absl::StrCat("content_digests[", i, "]"));
        !valid.ok())
      return valid;
  }
  std::vector<std::string> missing;
  for (const std::string& digest : digests) {
    absl::StatusOr<bool> held = Contains(digest);
    if (!held.ok()) return held.status();
    if (!*held) missing.push_back(digest);
  }
  return missing;
}

absl::StatusOr<std::unique_ptr<ContentWriter>> FileContentStore::BeginWrite(
    absl::string_view digest, int64_t size_bytes) {
  if (absl::Status valid = ValidateDigest(digest, "header.content_digest"); !valid.ok())
    return valid;
  if (size_bytes < 0 || size_bytes > kMaxContentBytes)
    return common::InvalidArgument(
        "header.size_bytes", "INVALID_CONTENT_SIZE",
        absl::StrFormat("Invalid header.size_bytes %d: must be between 0 and %d (4 GiB)",
                        size_bytes, kMaxContentBytes));
  // Content held already costs nothing more; anything else must fit.
  absl::StatusOr<bool> held = Contains(digest);
  if (!held.ok()) return held.status();
  const int64_t reserve = *held ? 0 : size_bytes;
  if (absl::Status room = usage_->Reserve(reserve); !room.ok()) return room;
  std::string temp_path = absl::StrCat(media_dir_, "/tmp/upload-XXXXXX");
  const int fd = ::mkostemp(temp_path.data(), O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    usage_->Settle(reserve, /*stored=*/false);
    return IoError("create a temporary media file in", temp_path, error);
  }
  // mkostemp creates 0600; stored media are ordinary readable files.
  ::fchmod(fd, 0644);
  std::unique_ptr<ContentWriter> writer(new ContentWriter(std::string(digest), size_bytes,
                                                          ContentPath(media_dir_, digest),
                                                          std::move(temp_path), fd, usage_));
  writer->reserved_bytes_ = reserve;
  return writer;
}

}  // namespace labelport::store
