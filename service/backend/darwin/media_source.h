// MediaSource: the bytes of one sample's media, readable in chunks as many
// times as an upload is attempted, without holding the file in memory.
//
// Media references: a server path is opened once, beneath the tenant's media
// roots (common::OpenMediaPath), and read from that descriptor for every
// attempt, never by name again; a content digest is read
// from the content store (<media_dir>/sha256/<hex>); an http(s) URL is
// streamed to a temporary file first (constant memory, bounded size, under
// the egress policy; the file is removed when the MediaSource is destroyed). External-storage
// references have no bytes here (they are registered in place).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_SOURCE_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_SOURCE_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labelport/v1/sample.pb.h"
#include "service/backend/darwin/media_url_fetch.h"
#include "service/common/media_path_opener.h"
#include "service/common/unique_fd.h"
#include "service/http/http_client.h"

namespace labelport::backend::darwin {

class MediaSource {
 public:
  MediaSource(std::string path, int64_t size_bytes, bool remove_on_destroy);
  // Reads the open file `fd` (from offset 0 on every attempt).
  MediaSource(common::UniqueFd fd, int64_t size_bytes);
  ~MediaSource();
  MediaSource(const MediaSource&) = delete;
  MediaSource& operator=(const MediaSource&) = delete;

  int64_t size_bytes() const { return size_bytes_; }
  void set_size_bytes(int64_t size) { size_bytes_ = size; }
  // A fresh chunk reader over the whole file per call (1 MiB chunks).
  std::function<http::BodyChunkSource()> body_factory() const;

 private:
  std::string path_;
  int64_t size_bytes_;
  bool remove_on_destroy_;
  // Set for server paths; shared with the readers of body_factory().
  std::shared_ptr<const common::UniqueFd> fd_;
};

// The file name a reference shows in V7: `file_name` when given, else the
// last component of the path, URL path or storage key.
std::string MediaFileName(const labelport::v1::MediaReference& media);

// Opens the bytes of `media`. NOT_FOUND / PERMISSION_DENIED / UNAVAILABLE
// Opens the bytes of `media`. NOT_FOUND / PERMISSION_DENIED / UNAVAILABLE
// name the reference (URLs redacted: no userinfo, query or fragment);
// FAILED_PRECONDITION for external-storage references. Server paths are
// opened under `paths` (errors as common::OpenMediaPath). A URL is fetched
// with FetchMediaUrl (`http` is the media stack, under the egress policy,
// and `limits` bound it) into a file under `temp_dir` that the returned
// source owns; the file is removed on every error path too.
boost::asio::awaitable<absl::StatusOr<std::shared_ptr<MediaSource>>> OpenMedia(
    const labelport::v1::MediaReference& media, http::HttpClient& http,
    const std::string& media_dir, const std::string& temp_dir, absl::Time deadline,
    const common::MediaPathPolicy& paths, const MediaFetchLimits& limits = {});

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_SOURCE_H_
