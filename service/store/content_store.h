// FileContentStore: media bytes stored by their content digest on the local
// file system, for samples whose media reference is a content digest.
//
// Layout: "sha256:<hex>" is stored at <media_dir>/sha256/<first 2 hex>/<hex>
// (the path the upload pipeline reads, see ContentPath). A file exists at
// that path only after its bytes were verified against the digest and size:
// writers fill a temporary file under <media_dir>/tmp, fsync it and rename it
// into place atomically. Presence therefore means "held and verified".
//
// Digests are "sha256:<64 lowercase hex>"; anything else is INVALID_ARGUMENT
// naming the request field ("content_digests[i]", "header.content_digest").
//
// Thread-safety: FileContentStore is thread-safe. Concurrent writers of the
// same digest are fine: each writes its own temporary file and the renames
// replace identical bytes. A ContentWriter is used by one caller at a time.
#ifndef LABELPORT_SERVICE_STORE_CONTENT_STORE_H_
#define LABELPORT_SERVICE_STORE_CONTENT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "service/common/sha256.h"

namespace labelport::store {

// The largest content a writer accepts.
inline constexpr int64_t kMaxContentBytes = int64_t{4} << 30;

// The bytes one content store holds and may hold: the verified contents plus
// the announced sizes of writes in progress count against `limit_bytes`.
// Shared by a store and its writers. Thread-safe.
class ContentUsage {
 public:
  // `limit_bytes` <= 0: unlimited.
  ContentUsage(int64_t stored_bytes, int64_t limit_bytes)
      : stored_(stored_bytes), limit_(limit_bytes) {}

  // Reserves `bytes` for a write; RESOURCE_EXHAUSTED (reason
  // TENANT_MEDIA_QUOTA) naming the limit when it would be exceeded.
  absl::Status Reserve(int64_t bytes);
  // Ends a reservation: the bytes are now stored (`stored`) or not.
  void Settle(int64_t reserved_bytes, bool stored);

  int64_t stored_bytes() const;

 private:
  mutable absl::Mutex mu_;
  int64_t stored_ ABSL_GUARDED_BY(mu_);
  int64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  const int64_t limit_;
};

// What a successful ContentWriter::Commit stored.
struct StoredContent {
  std::string content_digest;
  int64_t size_bytes = 0;
  // True when the store already held the digest (nothing new was written).
  bool already_present = false;
};

// Streams one content into the store. Append the bytes in order, then
// Commit. Destroying the writer without a successful Commit removes its
// temporary file, so an abandoned or failed upload leaves nothing behind.
class ContentWriter {
 public:
  ~ContentWriter();
  ContentWriter(const ContentWriter&) = delete;
  ContentWriter& operator=(const ContentWriter&) = delete;

  // Writes and hashes `chunk`. INVALID_ARGUMENT (field "header.size_bytes")
  // when the bytes so far exceed the announced size; UNAVAILABLE /
  // RESOURCE_EXHAUSTED on write errors. After an error the writer is spent.
  absl::Status Append(absl::string_view chunk);

  // Verifies the size and digest of the bytes appended and moves them into
  // place. INVALID_ARGUMENT naming the expected and actual size
  // ("header.size_bytes") or digest ("header.content_digest") on a mismatch;
  // the temporary file is removed. Content the store already holds is
  // verified the same way and acknowledged with already_present = true.
  absl::StatusOr<StoredContent> Commit();

  const std::string& content_digest() const { return digest_; }
  int64_t size_bytes() const { return size_bytes_; }
  int64_t bytes_written() const { return written_; }

 private:
  friend class FileContentStore;
  ContentWriter(std::string digest, int64_t size_bytes, std::string final_path,
                std::string temp_path, int fd, std::shared_ptr<ContentUsage> usage);
  absl::Status Fail(absl::Status status);
  void Discard();

  std::string digest_;
  int64_t size_bytes_;
  std::string final_path_;
  std::string temp_path_;  // empty once renamed or removed
  int fd_;                 // -1 once closed
  common::Sha256Hasher sha256_;
  int64_t written_ = 0;
  bool spent_ = false;
  // Holds a reservation of reserved_bytes_ (size_bytes_, or 0 for content
  // the store held already) until the writer is settled.
  std::shared_ptr<ContentUsage> usage_;
  int64_t reserved_bytes_ = 0;
};

class FileContentStore {
 public:
  struct Options {
    // The most bytes of verified content the store may hold (a tenant's
    // media quota); <= 0: unlimited. Stored media are counted at Create.
    int64_t max_stored_bytes = 0;
  };

  // Creates <media_dir>/sha256 and <media_dir>/tmp when missing; removes
  // temporary files older than a day (left by a crashed process).
  // UNAVAILABLE naming the directory when it cannot be created.
  static absl::StatusOr<std::unique_ptr<FileContentStore>> Create(std::string media_dir,
                                                                  Options options);
  static absl::StatusOr<std::unique_ptr<FileContentStore>> Create(std::string media_dir) {
    return Create(std::move(media_dir), Options{});
  }

  // <media_dir>/sha256/<first 2 hex>/<hex> for "sha256:<hex>" (no validation).
  static std::string ContentPath(absl::string_view media_dir, absl::string_view digest);

  // OK when `digest` is "sha256:<64 lowercase hex>"; else INVALID_ARGUMENT
  // about `field`.
  static absl::Status ValidateDigest(absl::string_view digest, absl::string_view field);

  const std::string& media_dir() const { return media_dir_; }
  // Bytes of verified content held now.
  int64_t stored_bytes() const { return usage_->stored_bytes(); }

  // Whether the store holds `digest`. INVALID_ARGUMENT (field
  // "content_digest") for a malformed digest.
  absl::StatusOr<bool> Contains(absl::string_view digest) const;

  // The digests of `digests` the store does not hold, in their order
  // (duplicates kept). INVALID_ARGUMENT naming "content_digests[i]" for the
  // first malformed one.
  absl::StatusOr<std::vector<std::string>> FindMissing(absl::Span<const std::string> digests) const;

  // Starts writing `size_bytes` bytes (0 .. kMaxContentBytes) that hash to
  // `digest`. INVALID_ARGUMENT naming "header.content_digest" or
  // "header.size_bytes"; RESOURCE_EXHAUSTED when new content would take the
  // store past Options::max_stored_bytes (content it holds already is
  // always accepted); UNAVAILABLE when the temporary file cannot be made.
  absl::StatusOr<std::unique_ptr<ContentWriter>> BeginWrite(absl::string_view digest,
                                                            int64_t size_bytes);

 private:
  FileContentStore(std::string media_dir, std::shared_ptr<ContentUsage> usage)
      : media_dir_(std::move(media_dir)), usage_(std::move(usage)) {}

  std::string media_dir_;
  std::shared_ptr<ContentUsage> usage_;
};

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_CONTENT_STORE_H_
