// FetchMediaUrl: the bytes of a sample's media URL, streamed into a file
// under the limits a shared server needs against untrusted URLs.
//
// * The HttpClient given is the media stack (service/server/http_stacks.cc): its
//   endpoint filter applies the egress policy to every address it connects
//   to, on every hop.
// * Redirects (301, 302, 303, 307, 308) are followed hop by hop, each a new
//   GET under the same policy, the Location resolved against the URL that
//   answered; at most `max_redirects` hops, never from https to http.
// * At most `max_bytes` per file: a larger Content-Length is refused before
//   any body byte, and the bytes are counted as they arrive.
// * Each read must bring bytes within `stall_timeout`; the whole fetch,
//   redirects included, ends by `deadline`.
//
// Errors name the URL redacted (no userinfo, query or fragment), and keep
// the cause's code: PERMISSION_DENIED (egress policy, downgrade),
// RESOURCE_EXHAUSTED (size), DEADLINE_EXCEEDED (stall, deadline),
// NOT_FOUND (404), INVALID_ARGUMENT (malformed URL or Location),
// UNAVAILABLE (other statuses and transport failures).
#ifndef LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_URL_FETCH_H_
#define LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_URL_FETCH_H_

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/http/http_client.h"

namespace labelport::backend::darwin {

struct MediaFetchLimits {
  // Bytes per media file (--max_media_bytes).
  int64_t max_bytes = int64_t{1} << 30;
  // Longest wait for the next bytes (--media_fetch_stall_seconds).
  absl::Duration stall_timeout = absl::Seconds(30);
  // Redirect hops followed.
  int max_redirects = 5;
};

// Streams the body of `url` into `out` (an empty file opened for writing;
// emptied again if a hop turns out to be a redirect). Returns the bytes
// written; `out` is flushed. The caller owns and removes the file.
boost::asio::awaitable<absl::StatusOr<int64_t>> FetchMediaUrl(http::HttpClient& http,
                                                              const std::string& url,
                                                              const MediaFetchLimits& limits,
                                                              std::FILE* out, absl::Time deadline);

}  // namespace labelport::backend::darwin

#endif  // LABELPORT_SERVICE_BACKEND_DARWIN_MEDIA_URL_FETCH_H_
