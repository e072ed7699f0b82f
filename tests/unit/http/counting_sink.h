// A response body sink for the HTTP client tests (SendStreaming) that accepts
// every chunk and adds its size to a counter.
#ifndef LABELPORT_TESTS_UNIT_HTTP_COUNTING_SINK_H_
#define LABELPORT_TESTS_UNIT_HTTP_COUNTING_SINK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/http/http_client.h"

namespace labelport::http::testing {

// Counts into `received`, which must outlive the call.
inline BodyChunkSink CountingSink(int64_t& received) {
  return [&received](absl::string_view chunk) -> boost::asio::awaitable<absl::Status> {
    received += static_cast<int64_t>(chunk.size());
    co_return absl::OkStatus();
  };
}

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_HTTP_COUNTING_SINK_H_
