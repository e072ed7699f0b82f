#include "service/config/server_config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/common/media_roots.h"
#include "service/common/small_file.h"
#include "service/http/egress_policy.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC listen address HOST:PORT; port 0 picks a free port (env LABELPORT_LISTEN)");
ABSL_FLAG(std::string, data_dir, "./labelport-data",
          "Directory for the SQLite database and media (env LABELPORT_DATA_DIR)");
ABSL_FLAG(std::string, store, "sqlite",
          "Run store: 'sqlite' (file <data_dir>/labelport.db), 'sqlite:///abs/path.db', or "
          "'postgresql://user:password@host:port/database' shared by several replicas "
          "(env LABELPORT_STORE)");
ABSL_FLAG(std::string, log_level, "info",
          "Log level: debug, info, warning or error (env LABELPORT_LOG_LEVEL)");
ABSL_FLAG(bool, log_json, false, "Write logs as JSON lines (env LABELPORT_LOG_JSON)");
ABSL_FLAG(int, drain_seconds, 10,
          "On SIGTERM/SIGINT, how long in-flight calls may finish before they are cancelled "
          "(env LABELPORT_DRAIN_SECONDS)");
ABSL_FLAG(int, worker_threads, 4,
          "Threads that run requests off the gRPC threads (env LABELPORT_WORKER_THREADS)");
ABSL_FLAG(int, max_message_mb, 64,
          "Largest gRPC message accepted, in MiB (env LABELPORT_MAX_MESSAGE_MB)");
ABSL_FLAG(int, max_run_samples, 1'000'000,
          "Most samples one CreateRun may send, at most 1000000 (env LABELPORT_MAX_RUN_SAMPLES)");
ABSL_FLAG(int, max_create_run_mb, 4096,
          "Most bytes one CreateRun may send, in MiB, at most 4096 "
          "(env LABELPORT_MAX_CREATE_RUN_MB)");

ABSL_FLAG(int, io_threads, 2, "Threads running V7 I/O and upload jobs (env LABELPORT_IO_THREADS)");
ABSL_FLAG(int, cpu_threads, 0,
          "Threads of the one pool that runs CPU-heavy work of every load (export zip reading, "
          "Darwin JSON parsing, label merges), off the I/O threads; 0: the number of cores "
          "(env LABELPORT_CPU_THREADS)");
ABSL_FLAG(int, store_threads, 4,
          "Threads that run the store calls of the upload worker (leases, claims, run updates, "
          "the upload journal's reads and writes) and of LoadAnnotations, GetRunStatus and "
          "CleanupRun, so that they never block an I/O thread; 1 to 64 (env "
          "LABELPORT_STORE_THREADS)");
ABSL_FLAG(std::string, worker_id, "",
          "Lease owner name of this replica; a restarted replica with the same id resumes its "
          "runs at once (default: the host name; env LABELPORT_WORKER_ID)");
ABSL_FLAG(int, lease_ttl_seconds, 30,
          "How long this replica's claim on a run lasts without renewal (renewed every third of "
          "it); after a crash, another replica takes the run over once it expires "
          "(env LABELPORT_LEASE_TTL_SECONDS)");
ABSL_FLAG(int, max_concurrent_runs, 4,
          "Runs uploaded at the same time by this replica (env LABELPORT_MAX_CONCURRENT_RUNS)");
ABSL_FLAG(int, max_connection_age_seconds, 1800,
          "Client connections are closed (with a GOAWAY, after --max_connection_age_grace_seconds "
          "for calls in flight) once this old, so that clients reconnect and spread over new "
          "replicas; 0: never (env LABELPORT_MAX_CONNECTION_AGE_SECONDS)");
ABSL_FLAG(int, max_connection_age_grace_seconds, 300,
          "How long calls in flight may go on on a connection past its maximum age (env "
          "LABELPORT_MAX_CONNECTION_AGE_GRACE_SECONDS)");
ABSL_FLAG(int, max_concurrent_runs_per_tenant, 2,
          "Of those, at most this many of one tenant, so that one tenant's slow or stalled runs "
          "cannot hold every slot; capped at --max_concurrent_runs "
          "(env LABELPORT_MAX_CONCURRENT_RUNS_PER_TENANT)");
ABSL_FLAG(
    int, max_runs_in_flight_per_tenant, 50,
    "Runs one tenant may have PENDING or UPLOADING at once; CreateRun and ResumeRun answer "
    "RESOURCE_EXHAUSTED beyond it; 0: unlimited (env LABELPORT_MAX_RUNS_IN_FLIGHT_PER_TENANT)");
ABSL_FLAG(int64_t, max_media_bytes_per_tenant, 0,
          "Bytes of uploaded media (UploadMedia) one tenant may store under the data dir; an "
          "upload past it answers RESOURCE_EXHAUSTED; 0: unlimited "
          "(env LABELPORT_MAX_MEDIA_BYTES_PER_TENANT)");
ABSL_FLAG(std::string, darwin_url, "https://darwin.v7labs.com",
          "V7 Darwin base URL (env LABELPORT_DARWIN_URL)");
ABSL_FLAG(std::string, darwin_ca_file, "",
          "PEM file of extra CA certificates trusted for V7 (env LABELPORT_DARWIN_CA_FILE)");
ABSL_FLAG(std::string, darwin_api_key_file, "",
          "File holding the V7 API key (env LABELPORT_DARWIN_API_KEY_FILE); without it the key "
          "is read from FIFTYONE_DARWIN_API_KEY");
ABSL_FLAG(int, darwin_rate_limit_per_minute, 1000,
          "V7 API calls per minute per API key, all replicas together (env "
          "LABELPORT_DARWIN_RATE_LIMIT_PER_MINUTE)");
ABSL_FLAG(int, darwin_rate_burst, 0,
          "V7 API calls per API key that may go at once before the rate applies (the token "
          "bucket's capacity), all replicas together; 0 (default): 95% of one minute's worth "
          "of --darwin_rate_limit_per_minute, i.e. 950 at V7's 1,000. V7 limits a key to 1,000 "
          "requests per minute, a budget a client may spend at once (darwin-sim enforces it as "
          "a bucket of one minute's requests), so a smaller burst only makes short runs "
          "slower; the 5% left over absorbs requests that reach V7 bunched or out of order, "
          "which would otherwise meet an empty bucket. A 429 empties the bucket, holds the "
          "key's calls for its Retry-After and halves the rate, which then climbs back within "
          "a minute (env LABELPORT_DARWIN_RATE_BURST)");
ABSL_FLAG(int, darwin_outage_wait_seconds, 21600,
          "How long an upload waits for V7 to come back when V7 cannot be reached (connection "
          "refused, timeouts, 5xx or 429 after the retries, and V7's token-info check fails "
          "too): the job pauses, checks V7 with backoff up to every 30 s and resumes where it "
          "stopped; after this long the failed call stands (the sample or the run fails and "
          "can be resumed). 0: no waiting (env LABELPORT_DARWIN_OUTAGE_WAIT_SECONDS)");
ABSL_FLAG(int, upload_concurrency, 16,
          "Media uploads in flight per run (env LABELPORT_UPLOAD_CONCURRENCY)");
ABSL_FLAG(int, import_concurrency, 8,
          "Label imports in flight per run (env LABELPORT_IMPORT_CONCURRENCY)");
ABSL_FLAG(int, darwin_max_connections, 16,
          "Keep-alive HTTP connections per V7 host, the bound on V7 calls in flight (env "
          "LABELPORT_DARWIN_MAX_CONNECTIONS)");
ABSL_FLAG(int, darwin_retry_attempts, 10,
          "Attempts per V7 call, the first included: 5xx, 429, dropped connections and cut or "
          "malformed answers are retried with jittered exponential backoff (env "
          "LABELPORT_DARWIN_RETRY_ATTEMPTS)");
ABSL_FLAG(int, processing_timeout_seconds, 1800,
          "How long to wait for V7 to process uploaded media (env "
          "LABELPORT_PROCESSING_TIMEOUT_SECONDS)");
ABSL_FLAG(int, export_timeout_seconds, 1800,
          "How long a load waits for a V7 export to become ready (env "
          "LABELPORT_EXPORT_TIMEOUT_SECONDS)");
ABSL_FLAG(int, export_cleanup_timeout_seconds, 30,
          "How long a cancelled load waits for V7 to delete its export before leaving it to "
          "expire (env LABELPORT_EXPORT_CLEANUP_TIMEOUT_SECONDS)");

ABSL_FLAG(
    std::string, media_url_allow, "",
    "Comma-separated CIDRs and host names whose media URLs may be fetched although they "
    "are not public addresses (on-premise object stores), e.g. '10.20.0.0/16,minio.internal'; "
    "a host name matches exactly (case-insensitive), an address must lie in a CIDR. Without "
    "it, media URLs reaching loopback, private, link-local, CGNAT, multicast or reserved "
    "addresses are refused (env LABELPORT_MEDIA_URL_ALLOW)");
ABSL_FLAG(int64_t, max_media_bytes, int64_t{1} << 30,
          "Largest media file fetched from a URL, in bytes (1 GiB by default: far above any "
          "image, and V7's signed upload is one PUT to S3-style storage, which caps an object at "
          "5 GiB, the maximum allowed here). A larger Content-Length is refused before the body "
          "is read; each fetch in flight may hold this much under <data_dir>/tmp (env "
          "LABELPORT_MAX_MEDIA_BYTES)");
ABSL_FLAG(int, media_fetch_stall_seconds, 30,
          "A media URL fetch fails when no byte arrives for this long (env "
          "LABELPORT_MEDIA_FETCH_STALL_SECONDS)");
ABSL_FLAG(int, media_fetch_timeout_seconds, 600,
          "A media URL fetch, redirects included, must finish within this long (env "
          "LABELPORT_MEDIA_FETCH_TIMEOUT_SECONDS)");

ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT serving Prometheus metrics at /metrics, e.g. 0.0.0.0:9464; empty: no "
          "metrics endpoint (env LABELPORT_METRICS_LISTEN)");
ABSL_FLAG(std::string, health_listen, "",
          "HOST:PORT of a plaintext gRPC port serving only grpc.health.v1.Health (the same "
          "statuses as the main port: \"\" and labelport.v1.AnnotationService for readiness, "
          "\"liveness\"), for probes that cannot speak TLS, such as Kubernetes' native gRPC "
          "probes, while --listen requires TLS; empty: none (env LABELPORT_HEALTH_LISTEN)");
ABSL_FLAG(int, readiness_interval_seconds, 10,
          "How often the store (readiness) and V7 (the dependency_up metric only) are checked, "
          "and the replica heartbeat that shares the V7 rate limit runs (env "
          "LABELPORT_READINESS_INTERVAL_SECONDS)");
ABSL_FLAG(std::string, auth, "none",
          "How callers are authenticated: none (every caller is tenant 'default'; loopback "
          "only unless --allow_insecure_remote), token (bearer tokens) or mtls (client "
          "certificates) (env LABELPORT_AUTH)");
ABSL_FLAG(std::string, tenants_file, "",
          "JSON file of tenants: token hashes, client identities and V7 accounts; required by "
          "--auth=token and --auth=mtls (env LABELPORT_TENANTS_FILE)");
ABSL_FLAG(int, tenants_reload_seconds, 10,
          "How often the tenants file is checked for changes; 0: only on SIGHUP (env "
          "LABELPORT_TENANTS_RELOAD_SECONDS)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the gRPC listener; with --tls_key turns TLS on (env "
          "LABELPORT_TLS_CERT)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (env LABELPORT_TLS_KEY)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates that sign client certificates; clients must then present one "
          "(required by --auth=mtls; env LABELPORT_TLS_CLIENT_CA)");
ABSL_FLAG(bool, allow_insecure_remote, false,
          "Allow --auth=none on a non-loopback --listen address (anyone who can reach the port "
          "acts as tenant 'default'; env LABELPORT_ALLOW_INSECURE_REMOTE)");
ABSL_FLAG(std::vector<std::string>, media_root, {},
          "Directory beneath which every tenant's media references by server path may be read "
          "(repeatable, or comma-separated); each tenant adds its own media_roots from the "
          "tenants file. Without it no path is readable with --auth=token or mtls, and with "
          "--auth=none the whole file system is. The data dir, store, key, tenants and TLS files "
          "never are (env LABELPORT_MEDIA_ROOT, comma-separated)");

namespace labelport::config {
namespace {

// A single PUT to S3-style storage (V7's signed upload) carries at most 5 GiB.
constexpr int64_t kMaxMediaBytes = int64_t{5} << 30;

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

absl::Status EnvString(const char* name, absl::Flag<std::string>* flag) {
  if (const char* v = Env(name)) absl::SetFlag(flag, v);
  return absl::OkStatus();
}

template <typename Int>
absl::Status EnvInt(const char* name, absl::Flag<Int>* flag) {
  if (const char* v = Env(name)) {
    Int parsed = 0;
    if (!absl::SimpleAtoi(v, &parsed))
      return absl::InvalidArgumentError(absl::StrCat(name, " must be an integer"));
    absl::SetFlag(flag, parsed);
  }
  return absl::OkStatus();
}

absl::Status EnvBool(const char* name, absl::Flag<bool>* flag) {
  if (const char* v = Env(name)) {
    bool parsed = false;
    if (!absl::SimpleAtob(v, &parsed))
      return absl::InvalidArgumentError(absl::StrCat(name, " must be true or false"));
    absl::SetFlag(flag, parsed);
  }
  return absl::OkStatus();
}

void PrintHelp() {
  std::cout << "labelport-server: " << absl::ProgramUsageMessage() << "\n\nFlags:\n";
  std::map<std::string, const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "service/config/")) flags[std::string(name)] = flag;
  }
  for (const auto& [name, flag] : flags) {
    std::cout << "  --" << name << " (default: \"" << flag->DefaultValue() << "\")\n      "
              << flag->Help() << "\n";
  }
}

// The authentication and TLS settings, and the rules between them.
absl::Status LoadAuthConfig(ServerConfig& config) {
  auto mode = auth::ParseAuthMode(absl::GetFlag(FLAGS_auth));
  if (!mode.ok())
    return absl::InvalidArgumentError(absl::StrCat("--auth: ", mode.status().message()));
  config.auth_mode = *mode;
  config.tenants_file = absl::GetFlag(FLAGS_tenants_file);
  config.tenants_reload_seconds = absl::GetFlag(FLAGS_tenants_reload_seconds);
  config.allow_insecure_remote = absl::GetFlag(FLAGS_allow_insecure_remote);
  config.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  config.tls_key = absl::GetFlag(FLAGS_tls_key);
  config.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (config.tenants_reload_seconds < 0 || config.tenants_reload_seconds > 86400)
    return absl::InvalidArgumentError("--tenants_reload_seconds must be between 0 and 86400");
  if (config.tls_cert.empty() != config.tls_key.empty())
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  if (!config.tls_client_ca.empty() && config.tls_cert.empty())
    return absl::InvalidArgumentError(
        "--tls_client_ca needs TLS: give --tls_cert and --tls_key as well");
  if (config.auth_mode != auth::AuthMode::kNone && config.tenants_file.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("--auth=", auth::AuthModeName(config.auth_mode),
                     " needs --tenants_file (the JSON file of tenants; see README.md)"));
  if (config.auth_mode == auth::AuthMode::kMtls && config.tls_client_ca.empty())
    return absl::InvalidArgumentError(
        "--auth=mtls needs --tls_cert, --tls_key and --tls_client_ca (the CA that signs client "
        "certificates)");
  if (config.auth_mode == auth::AuthMode::kNone && !config.allow_insecure_remote &&
      !IsLoopbackListenAddress(config.listen))
    return absl::InvalidArgumentError(absl::StrCat(
        "--auth=none serves every caller as tenant 'default' and is only allowed on a loopback "
        "--listen address (127.0.0.1, ::1, localhost); got '",
        config.listen,
        "'. Use --auth=token or --auth=mtls, or pass --allow_insecure_remote to accept the "
        "risk"));
  return absl::OkStatus();
}

// --media_root (all its occurrences, or LABELPORT_MEDIA_ROOT), normalised
// and checked against the file system and --data_dir.
absl::Status LoadMediaRoots(int argc, char** argv, ServerConfig& config) {
  std::optional<std::vector<std::string>> given = RepeatedFlagValues(argc, argv, "media_root");
  std::string source = "--media_root";
  if (!given.has_value()) {
    given.emplace();
    if (const char* env = Env("LABELPORT_MEDIA_ROOT")) {
      source = "LABELPORT_MEDIA_ROOT";
      for (absl::string_view part : absl::StrSplit(env, ',', absl::SkipWhitespace()))
        given->emplace_back(absl::StripAsciiWhitespace(part));
    }
  }
  for (const std::string& value : *given) {
    auto root = common::NormalizeMediaRoot(value);
    if (!root.ok())
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", root.status().message()));
    if (absl::Status s = common::CheckMediaRootDirectory(*root, config.data_dir); !s.ok())
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", s.message()));
    if (absl::c_find(config.media_roots, *root) == config.media_roots.end())
      config.media_roots.push_back(*std::move(root));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> EffectiveMediaRoots(const ServerConfig& config,
                                             const std::vector<std::string>& tenant_roots) {
  if (config.auth_mode == auth::AuthMode::kNone && config.media_roots.empty()) return {"/"};
  std::vector<std::string> roots = tenant_roots;
  for (const std::string& root : config.media_roots) {
    if (absl::c_find(roots, root) == roots.end()) roots.push_back(root);
  }
  return roots;
}

std::vector<std::string> ServerOwnFiles(const ServerConfig& config) {
  std::vector<std::string> files;
  if (!config.sqlite_path.empty()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      files.push_back(absl::StrCat(config.sqlite_path, suffix));
  }
  for (const std::string* file : {&config.darwin_api_key_file, &config.tenants_file,
                                  &config.tls_cert, &config.tls_key, &config.tls_client_ca}) {
    if (!file->empty()) files.push_back(*file);
  }
  return files;
}

std::optional<std::vector<std::string>> RepeatedFlagValues(int argc, char** argv,
                                                           absl::string_view name) {
  std::optional<std::vector<std::string>> values;
  auto add = [&values](absl::string_view value) {
    if (!values.has_value()) values.emplace();
    for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace()))
      values->emplace_back(absl::StripAsciiWhitespace(part));
  };
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    if (!absl::ConsumePrefix(&arg, name)) continue;
    if (absl::ConsumePrefix(&arg, "=")) {
      add(arg);
    } else if (arg.empty() && i + 1 < argc) {
      add(argv[++i]);
    }
  }
  return values;
}

bool IsLoopbackListenAddress(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) return true;
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))
    host = host.substr(1, host.size() - 2);
  host = absl::AsciiStrToLower(host);
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  // 127.0.0.0/8: four decimal octets starting with 127.
  std::vector<std::string> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (const std::string& octet : octets) {
    int value = 0;
    if (!absl::SimpleAtoi(octet, &value) || value < 0 || value > 255) return false;
  }
  return true;
}

absl::StatusOr<ServerConfig> LoadServerConfig(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "service/config/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return std::string("labelport-server 0.1.0\n"); };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "runs FiftyOne-style annotation runs on V7 Darwin over gRPC.\n"
      "Every flag can also be set by the LABELPORT_<FLAG> environment variable; a flag on the\n"
      "command line wins.");

  for (absl::Status s :
       {EnvString("LABELPORT_LISTEN", &FLAGS_listen),
        EnvString("LABELPORT_DATA_DIR", &FLAGS_data_dir),
        EnvString("LABELPORT_STORE", &FLAGS_store),
        EnvString("LABELPORT_LOG_LEVEL", &FLAGS_log_level),
        EnvBool("LABELPORT_LOG_JSON", &FLAGS_log_json),
        EnvInt("LABELPORT_DRAIN_SECONDS", &FLAGS_drain_seconds),
        EnvInt("LABELPORT_WORKER_THREADS", &FLAGS_worker_threads),
        EnvInt("LABELPORT_MAX_MESSAGE_MB", &FLAGS_max_message_mb),
        EnvInt("LABELPORT_MAX_RUN_SAMPLES", &FLAGS_max_run_samples),
        EnvInt("LABELPORT_MAX_CREATE_RUN_MB", &FLAGS_max_create_run_mb),
        EnvInt("LABELPORT_IO_THREADS", &FLAGS_io_threads),
        EnvInt("LABELPORT_CPU_THREADS", &FLAGS_cpu_threads),
        EnvInt("LABELPORT_STORE_THREADS", &FLAGS_store_threads),
        EnvString("LABELPORT_WORKER_ID", &FLAGS_worker_id),
        EnvInt("LABELPORT_LEASE_TTL_SECONDS", &FLAGS_lease_ttl_seconds),
        EnvInt("LABELPORT_MAX_CONCURRENT_RUNS", &FLAGS_max_concurrent_runs),
        EnvInt("LABELPORT_MAX_CONCURRENT_RUNS_PER_TENANT", &FLAGS_max_concurrent_runs_per_tenant),
        EnvInt("LABELPORT_MAX_CONNECTION_AGE_SECONDS", &FLAGS_max_connection_age_seconds),
        EnvInt("LABELPORT_MAX_CONNECTION_AGE_GRACE_SECONDS",
               &FLAGS_max_connection_age_grace_seconds),
        EnvInt("LABELPORT_MAX_RUNS_IN_FLIGHT_PER_TENANT", &FLAGS_max_runs_in_flight_per_tenant),
        EnvInt("LABELPORT_MAX_MEDIA_BYTES_PER_TENANT", &FLAGS_max_media_bytes_per_tenant),
        EnvString("LABELPORT_DARWIN_URL", &FLAGS_darwin_url),
        EnvString("LABELPORT_DARWIN_CA_FILE", &FLAGS_darwin_ca_file),
        EnvString("LABELPORT_DARWIN_API_KEY_FILE", &FLAGS_darwin_api_key_file),
        EnvInt("LABELPORT_DARWIN_RATE_LIMIT_PER_MINUTE", &FLAGS_darwin_rate_limit_per_minute),
        EnvInt("LABELPORT_DARWIN_RATE_BURST", &FLAGS_darwin_rate_burst),
        EnvInt("LABELPORT_DARWIN_OUTAGE_WAIT_SECONDS", &FLAGS_darwin_outage_wait_seconds),
        EnvInt("LABELPORT_UPLOAD_CONCURRENCY", &FLAGS_upload_concurrency),
        EnvInt("LABELPORT_IMPORT_CONCURRENCY", &FLAGS_import_concurrency),
        EnvInt("LABELPORT_DARWIN_MAX_CONNECTIONS", &FLAGS_darwin_max_connections),
        EnvInt("LABELPORT_DARWIN_RETRY_ATTEMPTS", &FLAGS_darwin_retry_attempts),
        EnvInt("LABELPORT_PROCESSING_TIMEOUT_SECONDS", &FLAGS_processing_timeout_seconds),
        EnvInt("LABELPORT_EXPORT_TIMEOUT_SECONDS", &FLAGS_export_timeout_seconds),
        EnvInt("LABELPORT_EXPORT_CLEANUP_TIMEOUT_SECONDS", &FLAGS_export_cleanup_timeout_seconds),
        EnvString("LABELPORT_MEDIA_URL_ALLOW", &FLAGS_media_url_allow),
        EnvInt("LABELPORT_MAX_MEDIA_BYTES", &FLAGS_max_media_bytes),
        EnvInt("LABELPORT_MEDIA_FETCH_STALL_SECONDS", &FLAGS_media_fetch_stall_seconds),
        EnvInt("LABELPORT_MEDIA_FETCH_TIMEOUT_SECONDS", &FLAGS_media_fetch_timeout_seconds),
        EnvString("LABELPORT_METRICS_LISTEN", &FLAGS_metrics_listen),
        EnvString("LABELPORT_HEALTH_LISTEN", &FLAGS_health_listen),
        EnvInt("LABELPORT_READINESS_INTERVAL_SECONDS", &FLAGS_readiness_interval_seconds),
        EnvString("LABELPORT_AUTH", &FLAGS_auth),
        EnvString("LABELPORT_TENANTS_FILE", &FLAGS_tenants_file),
        EnvInt("LABELPORT_TENANTS_RELOAD_SECONDS", &FLAGS_tenants_reload_seconds),
        EnvString("LABELPORT_TLS_CERT", &FLAGS_tls_cert),
        EnvString("LABELPORT_TLS_KEY", &FLAGS_tls_key),
        EnvString("LABELPORT_TLS_CLIENT_CA", &FLAGS_tls_client_ca),
        EnvBool("LABELPORT_ALLOW_INSECURE_REMOTE", &FLAGS_allow_insecure_remote)}) {
    if (!s.ok()) return s;
  }
  // This Abseil version exits with status 1 after --help; print it ourselves.
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") {
      PrintHelp();
      std::exit(0);
    }
  }
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1)
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", rest[1], "' (see --help)"));

  ServerConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string store = absl::GetFlag(FLAGS_store);
  if (store == "sqlite") {
    config.sqlite_path = absl::StrCat(config.data_dir, "/labelport.db");
  } else if (absl::StartsWith(store, "sqlite://")) {
    config.sqlite_path = store.substr(std::string("sqlite://").size());
    if (config.sqlite_path.empty() || config.sqlite_path[0] != '/')
      return absl::InvalidArgumentError(
          "--store: a sqlite URL needs an absolute path, e.g. sqlite:///var/lib/labelport/db");
  } else if (absl::StartsWith(store, "postgresql://") || absl::StartsWith(store, "postgres://")) {
    config.postgres_url = store;
  } else {
    // Only the scheme is echoed: the rest may hold a password.
    return absl::InvalidArgumentError(
        absl::StrCat("--store: '", store.substr(0, store.find(':')),
                     "...' is not supported; use 'sqlite', 'sqlite:///path' or "
                     "'postgresql://user:password@host:port/database'"));
  }
  auto level = common::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok())
    return absl::InvalidArgumentError(absl::StrCat("--log_level: ", level.status().message()));
  config.log_level = *level;
  config.log_json = absl::GetFlag(FLAGS_log_json);
  config.drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  config.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  config.max_message_mb = absl::GetFlag(FLAGS_max_message_mb);
  config.max_run_samples = absl::GetFlag(FLAGS_max_run_samples);
  config.max_create_run_mb = absl::GetFlag(FLAGS_max_create_run_mb);
  config.io_threads = absl::GetFlag(FLAGS_io_threads);
  config.cpu_threads = absl::GetFlag(FLAGS_cpu_threads);
  config.store_threads = absl::GetFlag(FLAGS_store_threads);
  config.worker_id = absl::GetFlag(FLAGS_worker_id);
  if (config.worker_id.empty()) {
    char host[256] = {0};
    config.worker_id = ::gethostname(host, sizeof(host) - 1) == 0 ? host : "labelport";
  }
  config.lease_ttl_seconds = absl::GetFlag(FLAGS_lease_ttl_seconds);
  config.max_concurrent_runs = absl::GetFlag(FLAGS_max_concurrent_runs);
  config.max_concurrent_runs_per_tenant = absl::GetFlag(FLAGS_max_concurrent_runs_per_tenant);
  config.max_connection_age_seconds = absl::GetFlag(FLAGS_max_connection_age_seconds);
  config.max_connection_age_grace_seconds = absl::GetFlag(FLAGS_max_connection_age_grace_seconds);
  config.max_runs_in_flight_per_tenant = absl::GetFlag(FLAGS_max_runs_in_flight_per_tenant);
  config.max_media_bytes_per_tenant = absl::GetFlag(FLAGS_max_media_bytes_per_tenant);
  config.darwin_url = absl::GetFlag(FLAGS_darwin_url);
  config.darwin_ca_file = absl::GetFlag(FLAGS_darwin_ca_file);
  config.darwin_rate_limit_per_minute = absl::GetFlag(FLAGS_darwin_rate_limit_per_minute);
  config.darwin_rate_burst = absl::GetFlag(FLAGS_darwin_rate_burst);
  config.darwin_outage_wait_seconds = absl::GetFlag(FLAGS_darwin_outage_wait_seconds);
  config.upload_concurrency = absl::GetFlag(FLAGS_upload_concurrency);
  config.import_concurrency = absl::GetFlag(FLAGS_import_concurrency);
  config.darwin_max_connections = absl::GetFlag(FLAGS_darwin_max_connections);
  config.darwin_retry_attempts = absl::GetFlag(FLAGS_darwin_retry_attempts);
  config.processing_timeout_seconds = absl::GetFlag(FLAGS_processing_timeout_seconds);
  config.export_timeout_seconds = absl::GetFlag(FLAGS_export_timeout_seconds);
  config.export_cleanup_timeout_seconds = absl::GetFlag(FLAGS_export_cleanup_timeout_seconds);
  config.media_url_allow = absl::GetFlag(FLAGS_media_url_allow);
  config.max_media_bytes = absl::GetFlag(FLAGS_max_media_bytes);
  config.media_fetch_stall_seconds = absl::GetFlag(FLAGS_media_fetch_stall_seconds);
  config.media_fetch_timeout_seconds = absl::GetFlag(FLAGS_media_fetch_timeout_seconds);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.health_listen = absl::GetFlag(FLAGS_health_listen);
  config.readiness_interval_seconds = absl::GetFlag(FLAGS_readiness_interval_seconds);
  const std::string key_file = absl::GetFlag(FLAGS_darwin_api_key_file);
  config.darwin_api_key_file = key_file;
  if (!key_file.empty()) {
    absl::StatusOr<std::string> contents =
        common::ReadSmallFile(key_file, common::kMaxSecretFileBytes, "the key file");
    if (!contents.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--darwin_api_key_file: ", contents.status().message()));
    config.darwin_api_key = std::string(absl::StripAsciiWhitespace(*contents));
    if (config.darwin_api_key.empty())
      return absl::InvalidArgumentError(
          absl::StrCat("--darwin_api_key_file: '", key_file, "' is empty"));
  } else if (const char* key = Env("FIFTYONE_DARWIN_API_KEY")) {
    config.darwin_api_key = std::string(absl::StripAsciiWhitespace(key));
  }
  if (config.io_threads < 1 || config.io_threads > 64)
    return absl::InvalidArgumentError("--io_threads must be between 1 and 64");
  if (config.cpu_threads < 0 || config.cpu_threads > 256)
    return absl::InvalidArgumentError(
        "--cpu_threads must be between 0 (the number of cores) and 256");
  if (config.store_threads < 1 || config.store_threads > 64)
    return absl::InvalidArgumentError("--store_threads must be between 1 and 64");
  if (config.lease_ttl_seconds < 1 || config.lease_ttl_seconds > 3600)
    return absl::InvalidArgumentError("--lease_ttl_seconds must be between 1 and 3600");
  if (config.max_concurrent_runs < 1 || config.max_concurrent_runs > 1000)
    return absl::InvalidArgumentError("--max_concurrent_runs must be between 1 and 1000");
  if (config.max_connection_age_seconds < 0 || config.max_connection_age_seconds > 2'000'000 ||
      config.max_connection_age_grace_seconds < 0 ||
      config.max_connection_age_grace_seconds > 2'000'000)
    return absl::InvalidArgumentError(
        "--max_connection_age_seconds and --max_connection_age_grace_seconds must be between 0 "
        "and 2000000");
  if (config.max_concurrent_runs_per_tenant < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("--max_concurrent_runs_per_tenant must be at least 1 (got ",
                     config.max_concurrent_runs_per_tenant, ")"));
  config.max_concurrent_runs_per_tenant =
      std::min(config.max_concurrent_runs_per_tenant, config.max_concurrent_runs);
  if (config.max_runs_in_flight_per_tenant < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--max_runs_in_flight_per_tenant must be 0 (unlimited) or more (got ",
                     config.max_runs_in_flight_per_tenant, ")"));
  if (config.max_media_bytes_per_tenant < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--max_media_bytes_per_tenant must be 0 (unlimited) or more (got ",
                     config.max_media_bytes_per_tenant, ")"));
  if (config.darwin_rate_limit_per_minute < 1)
    return absl::InvalidArgumentError("--darwin_rate_limit_per_minute must be at least 1");
  if (config.darwin_rate_burst < 0 || config.darwin_rate_burst > kMaxRateBurst)
    return absl::InvalidArgumentError(absl::StrCat(
        "--darwin_rate_burst must be between 0 (95% of a minute's worth of the rate) and ",
        kMaxRateBurst, " (got ", config.darwin_rate_burst, ")"));
  if (config.darwin_rate_burst == 0) {
    const int rate = config.darwin_rate_limit_per_minute;
    config.darwin_rate_burst = std::clamp(rate - rate / 20, 1, kMaxRateBurst);
  }
  if (config.darwin_outage_wait_seconds < 0 || config.darwin_outage_wait_seconds > 604800)
    return absl::InvalidArgumentError(
        absl::StrCat("--darwin_outage_wait_seconds must be between 0 and 604800 (a week; got ",
                     config.darwin_outage_wait_seconds, ")"));
  if (config.upload_concurrency < 1 || config.upload_concurrency > 256)
    return absl::InvalidArgumentError("--upload_concurrency must be between 1 and 256");
  if (config.import_concurrency < 1 || config.import_concurrency > 256)
    return absl::InvalidArgumentError(absl::StrCat(
        "--import_concurrency must be between 1 and 256 (got ", config.import_concurrency, ")"));
  if (config.darwin_max_connections < 1 || config.darwin_max_connections > 1024)
    return absl::InvalidArgumentError(
        absl::StrCat("--darwin_max_connections must be between 1 and 1024 (got ",
                     config.darwin_max_connections, ")"));
  if (config.darwin_retry_attempts < 1 || config.darwin_retry_attempts > 100)
    return absl::InvalidArgumentError(
        absl::StrCat("--darwin_retry_attempts must be between 1 and 100 (got ",
                     config.darwin_retry_attempts, ")"));
  if (config.processing_timeout_seconds < 1)
    return absl::InvalidArgumentError("--processing_timeout_seconds must be at least 1");
  if (config.export_timeout_seconds < 1)
    return absl::InvalidArgumentError("--export_timeout_seconds must be at least 1");
  if (config.export_cleanup_timeout_seconds < 1)
    return absl::InvalidArgumentError("--export_cleanup_timeout_seconds must be at least 1");
  if (auto policy = http::EgressPolicy::Create(config.media_url_allow); !policy.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("--media_url_allow: ", policy.status().message()));
  if (config.max_media_bytes < 1 || config.max_media_bytes > kMaxMediaBytes)
    return absl::InvalidArgumentError(
        absl::StrCat("--max_media_bytes must be between 1 and ", kMaxMediaBytes, " (5 GiB)"));
  if (config.media_fetch_stall_seconds < 1 || config.media_fetch_stall_seconds > 3600)
    return absl::InvalidArgumentError("--media_fetch_stall_seconds must be between 1 and 3600");
  if (config.media_fetch_timeout_seconds < 1 || config.media_fetch_timeout_seconds > 86400)
    return absl::InvalidArgumentError("--media_fetch_timeout_seconds must be between 1 and 86400");
  if (!absl::StartsWith(config.darwin_url, "http://") &&
      !absl::StartsWith(config.darwin_url, "https://"))
    return absl::InvalidArgumentError("--darwin_url must start with http:// or https://");
  if (!absl::StrContains(config.listen, ":"))
    return absl::InvalidArgumentError("--listen must be HOST:PORT");
  if (!config.metrics_listen.empty() && (config.metrics_listen.rfind(':') == std::string::npos ||
                                         config.metrics_listen.back() == ':'))
    return absl::InvalidArgumentError("--metrics_listen must be HOST:PORT (or empty)");
  if (!config.health_listen.empty() &&
      (config.health_listen.rfind(':') == std::string::npos || config.health_listen.back() == ':'))
    return absl::InvalidArgumentError("--health_listen must be HOST:PORT (or empty)");
  // Port 0 (pick a free port) twice gives two different ports.
  if (!config.health_listen.empty() && config.health_listen == config.listen &&
      !absl::EndsWith(config.listen, ":0"))
    return absl::InvalidArgumentError(
        "--health_listen must differ from --listen (it is a second, plaintext port)");
  if (config.readiness_interval_seconds < 1 || config.readiness_interval_seconds > 300)
    return absl::InvalidArgumentError("--readiness_interval_seconds must be between 1 and 300");
  if (config.drain_seconds < 0 || config.drain_seconds > 3600)
    return absl::InvalidArgumentError("--drain_seconds must be between 0 and 3600");
  if (config.worker_threads < 1 || config.worker_threads > 256)
    return absl::InvalidArgumentError("--worker_threads must be between 1 and 256");
  if (config.max_message_mb < 1 || config.max_message_mb > 1024)
    return absl::InvalidArgumentError("--max_message_mb must be between 1 and 1024");
  if (config.max_run_samples < 1 || config.max_run_samples > 1'000'000)
    return absl::InvalidArgumentError("--max_run_samples must be between 1 and 1000000");
  if (config.max_create_run_mb < 1 || config.max_create_run_mb > 4096)
    return absl::InvalidArgumentError("--max_create_run_mb must be between 1 and 4096");
  if (absl::Status s = LoadAuthConfig(config); !s.ok()) return s;
  if (absl::Status s = LoadMediaRoots(argc, argv, config); !s.ok()) return s;
  return config;
}

}  // namespace labelport::config
