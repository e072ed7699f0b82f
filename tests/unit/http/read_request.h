// Test support for the HTTP test servers (test_server.cc, the stress test's
// server): reading the next request of a connection.
#ifndef LABELPORT_TESTS_UNIT_HTTP_READ_REQUEST_H_
#define LABELPORT_TESTS_UNIT_HTTP_READ_REQUEST_H_

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <optional>

namespace labelport::http::testing {

using ServedRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The next request on `stream` (`buffer` keeps what was read past it), with a
// body of at most `body_limit` bytes; nullopt once the peer closed the
// connection or sent what is not such a request.
template <typename Stream>
boost::asio::awaitable<std::optional<ServedRequest>> ReadRequest(Stream& stream,
                                                                 boost::beast::flat_buffer& buffer,
                                                                 uint64_t body_limit) {
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.body_limit(body_limit);
  auto [ec, n] = co_await boost::beast::http::async_read(
      stream, buffer, parser, boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) co_return std::nullopt;
  co_return parser.release();
}

}  // namespace labelport::http::testing

#endif  // LABELPORT_TESTS_UNIT_HTTP_READ_REQUEST_H_
