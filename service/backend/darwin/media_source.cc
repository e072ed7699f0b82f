#include "service/backend/darwin/media_source.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/common/content_path.h"

namespace labelport::backend::darwin {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

std::string LastComponent(absl::string_view path) {
  path = absl::StripSuffix(path, "/");
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

absl::StatusOr<int64_t> FileSize(const std::string& path, const std::string& what) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    return absl::NotFoundError(absl::StrCat(what, " does not exist"));
  if (!std::filesystem::is_regular_file(status))
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a regular file"));
  if (::access(path.c_str(), R_OK) != 0)
    return absl::PermissionDeniedError(absl::StrCat(what, " is not readable by the server"));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
  return static_cast<int64_t>(size);
}

}  // namespace

MediaSource::MediaSource(std::string path, int64_t size_bytes, bool remove_on_destroy)
    : path_(std::move(path)), size_bytes_(size_bytes), remove_on_destroy_(remove_on_destroy) {}

MediaSource::MediaSource(common::UniqueFd fd, int64_t size_bytes)
    : size_bytes_(size_bytes),
      remove_on_destroy_(false),
      fd_(std::make_shared<const common::UniqueFd>(std::move(fd))) {}

MediaSource::~MediaSource() {
  if (remove_on_destroy_) std::remove(path_.c_str());
}

std::function<http::BodyChunkSource()> MediaSource::body_factory() const {
  if (fd_ != nullptr) {
    return [fd = fd_]() -> http::BodyChunkSource {
      auto offset = std::make_shared<off_t>(0);
      return [fd, offset]() -> boost::asio::awaitable<absl::StatusOr<std::string>> {
        std::string chunk(kChunkBytes, '\0');
        ssize_t n;
        do {
          n = ::pread(fd->get(), chunk.data(), chunk.size(), *offset);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
          co_return absl::UnavailableError(
              absl::StrCat("cannot read the media file: ", std::strerror(errno)));
        *offset += n;
        chunk.resize(static_cast<size_t>(n));
        co_return chunk;
      };
    };
  }
  const std::string path = path_;
  return [path]() -> http::BodyChunkSource {
    std::shared_ptr<FILE> file(std::fopen(path.c_str(), "rb"), [](FILE* f) {
      if (f != nullptr) std::fclose(f);
    });
    return [file, path]() -> boost::asio::awaitable<absl::StatusOr<std::string>> {
      if (!file) co_return absl::UnavailableError(absl::StrCat("cannot open media '", path, "'"));
      std::string chunk(kChunkBytes, '\0');
      const size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
      if (n == 0 && std::ferror(file.get()))
        co_return absl::UnavailableError(absl::StrCat("cannot read media '", path, "'"));
      chunk.resize(n);
      co_return chunk;
    };
  };
}

std::string MediaFileName(const labelport::v1::MediaReference& media) {
  if (!media.file_name().empty()) return media.file_name();
  switch (media.source_case()) {
    case labelport::v1::MediaReference::kPath:
      return LastComponent(media.path());
    case labelport::v1::MediaReference::kUrl: {
      std::string path = WithoutQuery(media.url());
      const size_t scheme = path.find("://");
      if (scheme != std::string::npos) path = path.substr(scheme + 3);
      std::string name = LastComponent(absl::StrContains(path, "/") ? path : "");
      return name.empty() ? "media" : name;
    }
    case labelport::v1::MediaReference::kStorage:
      return LastComponent(media.storage().storage_key());
    default:
      return "media";
  }
}

boost::asio::awaitable<absl::StatusOr<std::shared_ptr<MediaSource>>> OpenMedia(
    const labelport::v1::MediaReference& media, http::HttpClient& http,
    const std::string& media_dir, const std::string& temp_dir, absl::Time deadline,
    const common::MediaPathPolicy& paths, const MediaFetchLimits& limits) {
  switch (media.source_case()) {
    case labelport::v1::MediaReference::kPath: {
      auto file = common::OpenMediaPath(media.path(), paths);
      if (!file.ok()) co_return file.status();
      co_return std::make_shared<MediaSource>(std::move(file->fd), file->size_bytes);
    }
    case labelport::v1::MediaReference::kContentDigest: {
      const std::string path = common::ContentPath(media_dir, media.content_digest());
      auto size = FileSize(path, absl::StrCat("uploaded media ", media.content_digest()));
      if (!size.ok()) co_return size.status();
      co_return std::make_shared<MediaSource>(path, *size, false);
    }
    case labelport::v1::MediaReference::kUrl: {
      std::string tmpl = absl::StrCat(temp_dir, "/labelport-media-XXXXXX");
      const int fd = ::mkstemp(tmpl.data());
      if (fd < 0)
        co_return absl::UnavailableError(absl::StrCat("cannot create a temporary file in '",
                                                      temp_dir, "': ", std::strerror(errno)));
      // Owns the temporary file from here on: removed on every error path,
      // when this coroutine is destroyed (cancellation), and after the
      // upload (when the last user of the source lets go of it).
      auto source = std::make_shared<MediaSource>(tmpl, 0, true);
      std::shared_ptr<FILE> out(::fdopen(fd, "wb"), [](FILE* f) {
        if (f != nullptr) std::fclose(f);
      });
      if (out == nullptr) {
        ::close(fd);
        co_return absl::UnavailableError("cannot open the temporary media file");
      }
      auto written = co_await FetchMediaUrl(http, media.url(), limits, out.get(), deadline);
      if (!written.ok()) co_return written.status();
      out.reset();
      source->set_size_bytes(*written);
      co_return source;
    }
    case labelport::v1::MediaReference::kStorage:
      co_return absl::FailedPreconditionError(
          "external-storage media are registered in place, not uploaded");
    case labelport::v1::MediaReference::SOURCE_NOT_SET:
      break;
  }
  co_return absl::InvalidArgumentError("the sample has no media reference");
}

}  // namespace labelport::backend::darwin
