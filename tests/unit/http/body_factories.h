// Request bodies for the HTTP client tests (HttpRequest::body_factory).
#ifndef LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_
#define LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "service/http/http_client.h"

namespace labelport::http::testing {

// A body factory whose every source yields `chunks` in turn, then the end
// (an empty chunk).
inline std::function<BodyChunkSource()> ChunkedBody(std::vector<std::string> chunks) {
  return [chunks = std::move(chunks)]() -> BodyChunkSource {
    auto index = std::make_shared<size_t>(0);
    return [chunks, index]() -> boost::asio::awaitable<absl::StatusOr<std::string>> {
      if (*index >= chunks.size()) co_return std::string();
      co_return chunks[(*index)++];
    };
  };
}

// A body factory whose every source yields `bytes` as one chunk, then the
// end.
inline std::function<BodyChunkSource()> OneChunkBody(std::string bytes) {
  return ChunkedBody({std::move(bytes)});
}

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_
