// Load benchmark for darwin-sim: requests/s and p50/p99 latency of item
// listing and annotation import over keep-alive HTTP connections.
//
// By default it starts darwin-sim in-process on 127.0.0.1 (port 0); with
// --port it targets an already running sim on 127.0.0.1. Traffic never leaves
// the loopback interface. Bounded by --requests and --max_seconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/redirect_error.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "http_server.h"
#include "json_util.h"
#include "sim_app.h"

ABSL_FLAG(int, port, 0, "port of a running darwin-sim on 127.0.0.1; 0 starts one in-process");
ABSL_FLAG(std::string, api_key, "BENCHKY.0123456789abcdef0123456789abcdef",
          "API key of team 'bench' (an in-process sim is seeded with it)");
ABSL_FLAG(int, connections, 4, "concurrent keep-alive connections");
ABSL_FLAG(int, requests, 20000, "requests per scenario (upper bound)");
ABSL_FLAG(double, max_seconds, 10, "time bound per scenario");
ABSL_FLAG(int, server_threads, 2, "threads of the in-process sim");
ABSL_FLAG(int, items, 20, "items registered in the benchmark dataset");

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace json = boost::json;

struct Scenario {
  std::string name;
  http::verb method;
  std::string target;
  std::string body;
};

struct Result {
  std::vector<double> latencies_ms;
  int errors = 0;
  double seconds = 0;
};

// One synchronous request on a fresh connection (set-up only).
std::string Call(uint16_t port, const std::string& key, http::verb method,
                 const std::string& target, const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port));
  req.set(http::field::authorization, "ApiKey " + key);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (res.result_int() != 200) {
    std::cerr << "set-up call " << target << " failed: " << res.result_int() << " " << res.body()
              << "\n";
    std::exit(1);
  }
  return res.body();
}

asio::awaitable<void> Worker(uint16_t port, std::string key, const Scenario* s, int* budget,
                             Clock::time_point deadline, Result* result) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    ++result->errors;
    co_return;
  }
  beast::flat_buffer buffer;
  while (*budget > 0 && Clock::now() < deadline) {
    --*budget;
    http::request<http::string_body> req(s->method, s->target, 11);
    req.set(http::field::host, absl::StrCat("127.0.0.1:", port));
    req.set(http::field::authorization, "ApiKey " + key);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = s->body;
    req.prepare_payload();
    const Clock::time_point start = Clock::now();
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    http::response<http::string_body> res;
    if (!ec)
      co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || res.result_int() != 200) {
      ++result->errors;
      if (ec) co_return;
      continue;
    }
    result->latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
}

Result Run(uint16_t port, const std::string& key, const Scenario& s) {
  asio::io_context ioc;
  Result result;
  int budget = absl::GetFlag(FLAGS_requests);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(absl::GetFlag(FLAGS_max_seconds)));
  for (int i = 0; i < absl::GetFlag(FLAGS_connections); ++i) {
    asio::co_spawn(ioc, Worker(port, key, &s, &budget, deadline, &result), asio::detached);
  }
  ioc.run();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string key = absl::GetFlag(FLAGS_api_key);
  uint16_t port = static_cast<uint16_t>(absl::GetFlag(FLAGS_port));

  std::unique_ptr<labelport::darwin_sim::SimApp> app;
  std::unique_ptr<labelport::darwin_sim::HttpServer> server;
  std::thread server_thread;
  if (port == 0) {
    labelport::darwin_sim::SimAppOptions options;
    options.teams.push_back({"bench", "Bench", key});
    app = std::move(*labelport::darwin_sim::SimApp::Create(options));
    labelport::darwin_sim::HttpServerOptions server_options;
    server_options.threads = absl::GetFlag(FLAGS_server_threads);
    server_options.stop_on_signals = false;
    auto created = labelport::darwin_sim::HttpServer::Create(server_options, app.get());
    if (!created.ok()) {
      std::cerr << created.status() << "\n";
      return 1;
    }
    server = std::move(*created);
    port = server->port();
    server_thread = std::thread([&] { server->Run(); });
  }

  // Set-up: a dataset, N processed image items, one class.
  const std::string team =
      std::string(labelport::darwin_sim::ParseJson(
                      Call(port, key, http::verb::get, "/api/users/token_info", ""))
                      ->at("selected_team")
                      .at("slug")
                      .as_string());
  const std::string ds_name =
      absl::StrCat("bench-", std::chrono::system_clock::now().time_since_epoch().count());
  json::value ds = *labelport::darwin_sim::ParseJson(Call(
      port, key, http::verb::post, "/api/datasets", absl::StrCat(R"({"name": ")", ds_name, "\"}")));
  const int64_t ds_id = ds.at("id").as_int64();
  const std::string slug(ds.at("slug").as_string());
  // A 1x1 PNG.
  const std::string png = absl::Base64Escape(
      std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 29));
  std::string items;
  for (int i = 0; i < absl::GetFlag(FLAGS_items); ++i) {
    absl::StrAppend(&items, i == 0 ? "" : ",", R"({"name": "img)", i,
                    R"(.png", "path": "/",
        "file_content": ")",
                    png, R"(", "type": "image"})");
  }
  json::value uploaded = *labelport::darwin_sim::ParseJson(Call(
      port, key, http::verb::post, absl::StrCat("/api/v2/teams/", team, "/items/direct_upload"),
      absl::StrCat(R"({"dataset_slug": ")", slug, R"(", "items": [)", items, "]}")));
  const std::string item_id(uploaded.at("items").at(0).at("id").as_string());
  json::value cls = *labelport::darwin_sim::ParseJson(
      Call(port, key, http::verb::post, "/api/annotation_classes",
           absl::StrCat(R"({"dataset_id": )", ds_id,
                        R"(, "name": "box", "annotation_type_ids": [1],
                   "datasets": [{"id": )",
                        ds_id, "}]}")));

  const std::vector<Scenario> scenarios = {
      {"token_info", http::verb::get, "/api/users/token_info", ""},
      {"list_items(page_size=1)", http::verb::get,
       absl::StrCat("/api/v2/teams/", team, "/items?dataset_ids%5B%5D=", ds_id,
                    "&page%5Bsize%5D=1"),
       ""},
      {absl::StrCat("list_items(page_size=", absl::GetFlag(FLAGS_items), ")"), http::verb::get,
       absl::StrCat("/api/v2/teams/", team, "/items?dataset_ids%5B%5D=", ds_id,
                    "&page%5Bsize%5D=500"),
       ""},
      {"import(1 bbox, overwrite)", http::verb::post,
       absl::StrCat("/api/v2/teams/", team, "/items/", item_id, "/import"),
       absl::StrCat(R"({"annotations": [{"annotation_class_id": )", cls.at("id").as_int64(),
                    R"(, "data": {"bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4}},
                    "context_keys": {"slot_names": ["0"]},
                    "id": "0c6e7a4e-6f7c-4b6b-9a5d-2f0c9a3f1d11"}], "overwrite": "true"})")},
  };
  std::printf(
      "darwin-sim benchmark: %d connections, <= %d requests or %.0f s per "
      "scenario, %u cores\n",
      absl::GetFlag(FLAGS_connections), absl::GetFlag(FLAGS_requests),
      absl::GetFlag(FLAGS_max_seconds), std::thread::hardware_concurrency());
  std::printf("%-26s %9s %7s %11s %9s %9s\n", "scenario", "requests", "errors", "requests/s",
              "p50 ms", "p99 ms");
  for (const Scenario& s : scenarios) {
    Result r = Run(port, key, s);
    std::printf("%-26s %9zu %7d %11.0f %9.3f %9.3f\n", s.name.c_str(), r.latencies_ms.size(),
                r.errors, static_cast<double>(r.latencies_ms.size()) / r.seconds,
                Percentile(r.latencies_ms, 0.50), Percentile(r.latencies_ms, 0.99));
  }
  std::printf(
      "reproduce: cmake --build <build> --target darwin_sim_bench && "
      "<build>/tests/bench/darwin_sim/darwin_sim_bench --connections=%d "
      "--requests=%d "
      "--max_seconds=%g --server_threads=%d\n",
      absl::GetFlag(FLAGS_connections), absl::GetFlag(FLAGS_requests),
      absl::GetFlag(FLAGS_max_seconds), absl::GetFlag(FLAGS_server_threads));
  if (server != nullptr) {
    server->Stop();
    server_thread.join();
  }
  return 0;
}
