#include "service/backend/darwin/media_url_fetch.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "service/http/url.h"

namespace labelport::backend::darwin {
namespace {

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// `message` with the code and payloads (e.g. the egress reason) of `cause`.
absl::Status Rewrap(const absl::Status& cause, absl::string_view message) {
  absl::Status out(cause.code(), message);
  cause.ForEachPayload(
      [&out](absl::string_view type, const absl::Cord& payload) { out.SetPayload(type, payload); });
  return out;
}

absl::Status EmptyFile(std::FILE* out) {
  if (std::fflush(out) != 0 || ::ftruncate(::fileno(out), 0) != 0) {
    return absl::UnavailableError("cannot reset the temporary media file");
  }
  std::rewind(out);
  return absl::OkStatus();
}

}  // namespace

boost::asio::awaitable<absl::StatusOr<int64_t>> FetchMediaUrl(http::HttpClient& http,
                                                              const std::string& url,
                                                              const MediaFetchLimits& limits,
                                                              std::FILE* out, absl::Time deadline) {
  const std::string shown = absl::StrCat("media URL '", http::RedactedUrl(url), "'");
  std::string current = url;
  for (int hop = 0;; ++hop) {
    absl::StatusOr<http::Url> parsed = http::ParseUrl(current);
    if (!parsed.ok()) {
      co_return absl::InvalidArgumentError(
          absl::StrCat(shown, hop == 0 ? " is not usable: " : " redirected to an unusable URL: ",
                       parsed.status().message()));
    }
    // Where a redirect led, for messages.
    const std::string via =
        hop == 0 ? "" : absl::StrCat(" (redirected to '", http::RedactedUrl(*parsed), "')");
    if (absl::Status emptied = EmptyFile(out); !emptied.ok()) co_return emptied;

    http::HttpRequest request;
    request.method = "GET";
    request.url = current;
    request.deadline = deadline;
    request.idempotent = true;
    request.stall_timeout = limits.stall_timeout;
    request.max_streamed_body_bytes = limits.max_bytes;
    int64_t written = 0;
    bool write_failed = false;
    auto response = co_await http.SendStreaming(
        std::move(request), [&](absl::string_view chunk) -> boost::asio::awaitable<absl::Status> {
          if (written + static_cast<int64_t>(chunk.size()) > limits.max_bytes) {
            co_return absl::ResourceExhaustedError("over the size limit");
          }
          if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
            write_failed = true;
            co_return absl::UnavailableError("cannot write the temporary media file");
          }
          written += static_cast<int64_t>(chunk.size());
          co_return absl::OkStatus();
        });
    if (write_failed) {
      co_return absl::UnavailableError(
          absl::StrCat("cannot write the temporary file of ", shown, " after ", written, " bytes"));
    }
    if (!response.ok()) {
      const absl::Status& cause = response.status();
      if (absl::IsResourceExhausted(cause)) {
        co_return absl::ResourceExhaustedError(
            absl::StrCat(shown, via, " is larger than the server's limit of ", limits.max_bytes,
                         " bytes per media file (--max_media_bytes)"));
      }
      std::string hint;
      if (absl::IsDeadlineExceeded(cause)) {
        hint = absl::Now() >= deadline ? " (--media_fetch_timeout_seconds)"
                                       : " (--media_fetch_stall_seconds)";
      }
      co_return Rewrap(cause,
                       absl::StrCat("cannot fetch ", shown, via, ": ", cause.message(), hint));
    }
    const int status = response->status;
    if (IsRedirect(status)) {
      const std::optional<std::string> location = response->Header("Location");
      if (!location.has_value()) {
        co_return absl::UnavailableError(
            absl::StrCat(shown, via, " answered HTTP ", status, " without a Location"));
      }
      if (hop >= limits.max_redirects) {
        co_return absl::InvalidArgumentError(
            absl::StrCat(shown, " redirected more than ", limits.max_redirects, " times"));
      }
      absl::StatusOr<std::string> next = http::ResolveLocation(*parsed, *location);
      absl::StatusOr<http::Url> next_parsed =
          next.ok() ? http::ParseUrl(*next) : absl::StatusOr<http::Url>(next.status());
      if (!next_parsed.ok()) {
        co_return absl::InvalidArgumentError(absl::StrCat(
            shown, via, " redirected to an unusable URL: ", next_parsed.status().message()));
      }
      if (parsed->https() && !next_parsed->https()) {
        co_return absl::PermissionDeniedError(
            absl::StrCat(shown, via, " redirected from https to http ('",
                         http::RedactedUrl(*next_parsed), "'), which is refused"));
      }
      current = *std::move(next);
      continue;
    }
    if (status == 404) {
      co_return absl::NotFoundError(absl::StrCat(shown, via, " answered 404"));
    }
    if (status < 200 || status >= 300) {
      co_return absl::UnavailableError(absl::StrCat(shown, via, " answered HTTP ", status));
    }
    if (std::fflush(out) != 0) {
      co_return absl::UnavailableError(absl::StrCat("cannot write the temporary file of ", shown));
    }
    co_return written;
  }
}

}  // namespace labelport::backend::darwin
