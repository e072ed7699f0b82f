// Request bodies for the HTTP client tests (HttpRequest::body_factory).
#ifndef LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_
#define LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "service/http/http_client.h"

namespace labelport::http::testing {

// A body factory whose every source yields `bytes` as one chunk, then the
// end (an empty chunk).
inline std::function<BodyChunkSource()> OneChunkBody(std::string bytes) {
  return [bytes = std::move(bytes)]() -> BodyChunkSource {
    auto done = std::make_shared<bool>(false);
    return [bytes, done]() -> boost::asio::awaitable<absl::StatusOr<std::string>> {
      if (*done) co_return std::string();
      *done = true;
      co_return bytes;
    };
  };
}

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_HTTP_BODY_FACTORIES_H_
