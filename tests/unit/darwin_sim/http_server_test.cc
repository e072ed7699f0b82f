// HttpServer over real loopback sockets: keep-alive, 100-continue and the
// transport-level faults (dropped and truncated responses).
#include "http_server.h"

#include <thread>

#include "boost/asio/connect.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "tests/unit/darwin_sim/one_team_app.h"

namespace labelport::darwin_sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using testing::kTeamKey;

class HttpServerTest : public testing::OneTeamAppTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OneTeamAppTest::SetUp());
    HttpServerOptions server_options;
    server_options.threads = 2;
    server_options.stop_on_signals = false;
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Create(server_options, app_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    server_->Stop();
    thread_.join();
  }

  beast::tcp_stream Connect() {
    beast::tcp_stream stream(ioc_);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return stream;
  }

  http::request<http::string_body> Request(http::verb verb, std::string target,
                                           std::string body = "") {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "sim.test:1234");
    req.set(http::field::authorization, std::string("ApiKey ") + kTeamKey);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  // GETs `target` on a connection of its own; returns the error reading the
  // response gave (none for a whole response).
  boost::system::error_code GetReadError(const std::string& target) {
    beast::tcp_stream stream = Connect();
    http::write(stream, Request(http::verb::get, target));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    boost::system::error_code ec;
    http::read(stream, buffer, res, ec);
    return ec;
  }

  asio::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HttpServerTest, UrlAndKeepAlive) {
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(server_->port()));
  beast::tcp_stream stream = Connect();
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    http::write(stream, Request(http::verb::get, "//api/users/token_info"));
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_NE(res.body().find("\"slug\":\"team\""), std::string::npos);
  }
}

TEST_F(HttpServerTest, BaseUrlComesFromHostHeader) {
  beast::tcp_stream stream = Connect();
  beast::flat_buffer buffer;
  http::write(stream, Request(http::verb::post, "/api/datasets", R"({"name": "d"})"));
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  ASSERT_EQ(res.result_int(), 200);
  http::write(stream, Request(http::verb::post, "/api/v2/teams/team/items/register_upload",
                              R"({"dataset_slug": "d", "items": [{"name": "a.png",
                                  "slots": [{"file_name": "a.png", "slot_name": "0"}]}]})"));
  http::response<http::string_body> reg;
  http::read(stream, buffer, reg);
  const size_t at = reg.body().find("\"upload_id\":\"") + 13;
  const std::string upload_id = reg.body().substr(at, 36);
  http::write(stream,
              Request(http::verb::get, "/api/v2/teams/team/items/uploads/" + upload_id + "/sign"));
  http::response<http::string_body> sign;
  http::read(stream, buffer, sign);
  EXPECT_NE(sign.body().find("\"upload_url\":\"http://sim.test:1234/_upload/"), std::string::npos)
      << sign.body();
}

TEST_F(HttpServerTest, ExpectContinueGetsInterimResponse) {
  beast::tcp_stream stream = Connect();
  const std::string head = "POST /api/datasets HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey " +
                           std::string(kTeamKey) +
                           "\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n";
  asio::write(stream, asio::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::empty_body> interim;
  http::read(stream, buffer, interim);
  EXPECT_EQ(interim.result(), http::status::continue_);
  asio::write(stream, asio::buffer(std::string(R"({"name":"e"})")));
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
}

TEST_F(HttpServerTest, DroppedAndTruncatedResponses) {
  SimRequest fault;
  fault.method = "POST";
  fault.path = "/_sim/faults";
  fault.body = R"({"path": "/api/datasets", "action": "drop"})";
  app_->Handle(fault);
  EXPECT_TRUE(GetReadError("/api/datasets")) << "a dropped connection must not parse as a response";
  fault.body = R"({"path": "/api/annotation_types", "action": "truncate"})";
  app_->Handle(fault);
  EXPECT_EQ(GetReadError("/api/annotation_types"), http::error::partial_message);
}

}  // namespace
}  // namespace labelport::darwin_sim
