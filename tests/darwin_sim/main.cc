// darwin-sim: a local emulator of the V7 Darwin REST API for tests.
//
// Prints "listening on http[s]://HOST:PORT" as its first stdout line, then
// serves until SIGTERM or SIGINT. API keys are never printed.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "http_server.h"
#include "sim_app.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "HOST:PORT to listen on; port 0 picks a free port");
ABSL_FLAG(std::string, team, "", "team slug; repeat --team SLUG --api_key KEY for several teams");
ABSL_FLAG(std::string, api_key, "", "API key of the preceding --team");
ABSL_FLAG(std::string, teams_file, "",
          "seed file: one team per line, 'SLUG API_KEY [NAME...]', '#' comments");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; serves HTTPS with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int64_t, rate_limit_per_minute, 0,
          "requests per minute per API key before 429 with Retry-After; 0 = off");
ABSL_FLAG(int64_t, latency_ms, 0, "delay added to every API response");
ABSL_FLAG(int64_t, processing_delay_ms, 0, "upload confirm -> item 'new' delay");
ABSL_FLAG(int64_t, export_delay_ms, 0, "export create -> 'complete' delay");
ABSL_FLAG(int, threads, 0, "worker threads; 0 = hardware concurrency");

namespace {

using labelport::darwin_sim::TeamSeed;

// Pulls every --team / --api_key occurrence out of argv, in order, since
// absl flags keep only the last value of a repeated flag.
std::vector<char*> ExtractTeamFlags(int argc, char** argv, std::vector<std::string>* teams,
                                    std::vector<std::string>* keys) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    absl::string_view arg = argv[i];
    std::vector<std::string>* target = nullptr;
    absl::string_view name;
    if (absl::StartsWith(arg, "--team") && !absl::StartsWith(arg, "--teams_file")) {
      target = teams;
      name = "--team";
    } else if (absl::StartsWith(arg, "--api_key")) {
      target = keys;
      name = "--api_key";
    }
    if (target == nullptr ||
        (arg != name && !absl::StartsWith(arg, absl::StrCat(std::string(name), "=")))) {
      rest.push_back(argv[i]);
      continue;
    }
    if (arg == name) {
      if (i + 1 < argc) target->emplace_back(argv[++i]);
    } else {
      target->emplace_back(arg.substr(name.size() + 1));
    }
  }
  return rest;
}

bool ParseListen(const std::string& listen, std::string* host, uint16_t* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (absl::StartsWith(*host, "[") && absl::EndsWith(*host, "]")) {
    *host = host->substr(1, host->size() - 2);
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &p) || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return !host->empty();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "darwin-sim --listen HOST:PORT --team SLUG --api_key KEY [...]: V7 "
      "Darwin API emulator");
  std::vector<std::string> teams;
  std::vector<std::string> keys;
  std::vector<char*> rest = ExtractTeamFlags(argc, argv, &teams, &keys);
  absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());

  labelport::darwin_sim::SimAppOptions options;
  if (teams.size() != keys.size()) {
    std::cerr << "darwin-sim: every --team needs one --api_key\n";
    return 2;
  }
  for (size_t i = 0; i < teams.size(); ++i) options.teams.push_back({teams[i], teams[i], keys[i]});
  if (const std::string file = absl::GetFlag(FLAGS_teams_file); !file.empty()) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "darwin-sim: cannot read --teams_file " << file << "\n";
      return 2;
    }
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view l = absl::StripAsciiWhitespace(line);
      if (l.empty() || l[0] == '#') continue;
      std::vector<std::string> parts = absl::StrSplit(l, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (parts.size() < 2) {
        std::cerr << "darwin-sim: bad --teams_file line (need SLUG API_KEY [NAME])\n";
        return 2;
      }
      std::string name = parts[0];
      if (parts.size() > 2) name = std::string(l.substr(l.find(parts[2])));
      options.teams.push_back({parts[0], name, parts[1]});
    }
  }
  options.rate_limit_per_minute = absl::GetFlag(FLAGS_rate_limit_per_minute);
  options.latency_ms = absl::GetFlag(FLAGS_latency_ms);
  options.processing_delay_ms = absl::GetFlag(FLAGS_processing_delay_ms);
  options.export_delay_ms = absl::GetFlag(FLAGS_export_delay_ms);

  auto app = labelport::darwin_sim::SimApp::Create(std::move(options));
  if (!app.ok()) {
    std::cerr << "darwin-sim: " << app.status().message() << "\n";
    return 2;
  }
  labelport::darwin_sim::HttpServerOptions server_options;
  if (!ParseListen(absl::GetFlag(FLAGS_listen), &server_options.host, &server_options.port)) {
    std::cerr << "darwin-sim: --listen must be HOST:PORT\n";
    return 2;
  }
  server_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  server_options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  server_options.threads = absl::GetFlag(FLAGS_threads);
  auto server = labelport::darwin_sim::HttpServer::Create(server_options, app->get());
  if (!server.ok()) {
    std::cerr << "darwin-sim: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "listening on " << (*server)->url() << std::endl;
  (*server)->Run();
  return 0;
}
