// ServerConfig: every setting of labelport-server, from flags with
// environment-variable fallbacks (flag > environment > default).
//
//   flag              environment                default
//   --listen          LABELPORT_LISTEN           127.0.0.1:50051
//   --data_dir        LABELPORT_DATA_DIR         ./labelport-data
//   --store           LABELPORT_STORE            sqlite (file <data_dir>/labelport.db);
//                     or sqlite:///abs/path.db, or postgresql://user:pw@host:port/db
//   --log_level       LABELPORT_LOG_LEVEL        info
//   --log_json        LABELPORT_LOG_JSON         false
//   --drain_seconds   LABELPORT_DRAIN_SECONDS    10
//   --worker_threads  LABELPORT_WORKER_THREADS   4
//   --max_message_mb  LABELPORT_MAX_MESSAGE_MB   64
//   --max_run_samples LABELPORT_MAX_RUN_SAMPLES  1000000 (samples per CreateRun)
//   --max_create_run_mb LABELPORT_MAX_CREATE_RUN_MB 4096 (bytes per CreateRun)
//   --io_threads      LABELPORT_IO_THREADS       2
//   --cpu_threads     LABELPORT_CPU_THREADS      0 (= number of cores)
//   --store_threads   LABELPORT_STORE_THREADS    4 (the upload worker's store calls, journal
//   included)
//   --worker_id       LABELPORT_WORKER_ID        the host name
//   --lease_ttl_seconds LABELPORT_LEASE_TTL_SECONDS 30
//   --max_concurrent_runs LABELPORT_MAX_CONCURRENT_RUNS 4
//   --max_concurrent_runs_per_tenant LABELPORT_MAX_CONCURRENT_RUNS_PER_TENANT 2
//   --max_connection_age_seconds LABELPORT_MAX_CONNECTION_AGE_SECONDS 1800 (0: never)
//   --max_connection_age_grace_seconds LABELPORT_MAX_CONNECTION_AGE_GRACE_SECONDS 300
//   --max_runs_in_flight_per_tenant LABELPORT_MAX_RUNS_IN_FLIGHT_PER_TENANT 50 (0: unlimited)
//   --max_media_bytes_per_tenant LABELPORT_MAX_MEDIA_BYTES_PER_TENANT 0 (unlimited)
//   --darwin_url      LABELPORT_DARWIN_URL       https://darwin.v7labs.com
//   --darwin_ca_file  LABELPORT_DARWIN_CA_FILE   (system roots only)
//   --darwin_api_key_file LABELPORT_DARWIN_API_KEY_FILE; else the key comes
//                     from FIFTYONE_DARWIN_API_KEY (FiftyOne's variable)
//   --darwin_rate_limit_per_minute LABELPORT_DARWIN_RATE_LIMIT_PER_MINUTE 1000
//   --darwin_rate_burst LABELPORT_DARWIN_RATE_BURST 0 (= 95% of the rate per minute)
//   --darwin_outage_wait_seconds LABELPORT_DARWIN_OUTAGE_WAIT_SECONDS 21600
//   --upload_concurrency LABELPORT_UPLOAD_CONCURRENCY 16
//   --import_concurrency LABELPORT_IMPORT_CONCURRENCY 8
//   --darwin_max_connections LABELPORT_DARWIN_MAX_CONNECTIONS 16 (per V7 host)
//   --darwin_retry_attempts LABELPORT_DARWIN_RETRY_ATTEMPTS 10 (per V7 call)
//   --processing_timeout_seconds LABELPORT_PROCESSING_TIMEOUT_SECONDS 1800
//   --export_timeout_seconds LABELPORT_EXPORT_TIMEOUT_SECONDS 1800
//   --export_cleanup_timeout_seconds LABELPORT_EXPORT_CLEANUP_TIMEOUT_SECONDS 30
//   --media_url_allow LABELPORT_MEDIA_URL_ALLOW  "" (public addresses only)
//   --max_media_bytes LABELPORT_MAX_MEDIA_BYTES  1073741824 (1 GiB; at most 5 GiB)
//   --media_fetch_stall_seconds LABELPORT_MEDIA_FETCH_STALL_SECONDS 30
//   --media_fetch_timeout_seconds LABELPORT_MEDIA_FETCH_TIMEOUT_SECONDS 600
//   --metrics_listen  LABELPORT_METRICS_LISTEN   "" (no metrics endpoint)
//   --health_listen   LABELPORT_HEALTH_LISTEN    "" (no plaintext health port)
//   --readiness_interval_seconds LABELPORT_READINESS_INTERVAL_SECONDS 10
//   --auth            LABELPORT_AUTH             none (none | token | mtls)
//   --tenants_file    LABELPORT_TENANTS_FILE     (required by token and mtls)
//   --tenants_reload_seconds LABELPORT_TENANTS_RELOAD_SECONDS 10 (0: SIGHUP only)
//   --tls_cert, --tls_key LABELPORT_TLS_CERT, LABELPORT_TLS_KEY (PEM; TLS off without)
//   --tls_client_ca   LABELPORT_TLS_CLIENT_CA    (PEM; client certificates required)
//   --allow_insecure_remote LABELPORT_ALLOW_INSECURE_REMOTE false
//   --media_root      LABELPORT_MEDIA_ROOT       (repeatable or comma-separated; the env
//                     variable comma-separated) directories every tenant's
//                     media paths may name; default none, or "/" with
//                     --auth=none
#ifndef LABELPORT_SERVICE_CONFIG_SERVER_CONFIG_H_
#define LABELPORT_SERVICE_CONFIG_SERVER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/auth/auth_mode.h"
#include "service/common/log.h"

namespace labelport::config {

// The largest --darwin_rate_burst.
inline constexpr int kMaxRateBurst = 1000000;

struct ServerConfig {
  std::string listen;
  std::string data_dir;
  // The run store: the SQLite database file, or the PostgreSQL URL (a
  // secret: it may hold a password). Exactly one is set.
  std::string sqlite_path;
  std::string postgres_url;
  common::LogLevel log_level = common::LogLevel::kInfo;
  bool log_json = false;
  int drain_seconds = 10;
  int worker_threads = 4;
  int max_message_mb = 64;
  // Caps of one CreateRun call (at most core::kMaxSamplesPerRun and
  // core::kMaxCreateRunBytes).
  int max_run_samples = 1'000'000;
  int max_create_run_mb = 4096;
  int io_threads = 2;
  // Threads of the shared CPU pool (loads' parsing and merges); 0: cores.
  int cpu_threads = 0;
  int store_threads = 4;
  std::string worker_id;
  int lease_ttl_seconds = 30;
  int max_concurrent_runs = 4;
  // Tenant fairness and quotas (0: unlimited where allowed).
  int max_concurrent_runs_per_tenant = 2;
  // Client connections closed after this age (and grace), so clients
  // rebalance over replicas; 0: never.
  int max_connection_age_seconds = 1800;
  int max_connection_age_grace_seconds = 300;
  int max_runs_in_flight_per_tenant = 50;
  int64_t max_media_bytes_per_tenant = 0;
  std::string darwin_url;
  std::string darwin_ca_file;
  // The V7 API key (never logged). Empty when none is configured.
  std::string darwin_api_key;
  // The file it was read from (--darwin_api_key_file); empty otherwise.
  std::string darwin_api_key_file;
  int darwin_rate_limit_per_minute = 1000;
  // Token-bucket capacity per key, all replicas together (the flag's 0 is
  // resolved to 95% of darwin_rate_limit_per_minute, at most kMaxRateBurst).
  int darwin_rate_burst = 950;
  // How long an upload waits out a V7 outage (0: not at all).
  int darwin_outage_wait_seconds = 21600;
  int upload_concurrency = 16;
  // Label imports (V7 E35) in flight per run.
  int import_concurrency = 8;
  // Keep-alive HTTP connections per V7 host (scheme, host, port), busy plus
  // idle: with high latency, the bound on V7 calls in flight.
  int darwin_max_connections = 16;
  // Attempts per V7 call, the first included (DarwinClient's retry layer).
  int darwin_retry_attempts = 10;
  int processing_timeout_seconds = 1800;
  // How long a load waits for a V7 export to become ready.
  int export_timeout_seconds = 1800;
  int export_cleanup_timeout_seconds = 30;
  // Media URLs (service/http/egress_policy.h): the operator allowlist
  // (validated), the size cap per file, the stall timeout and the deadline.
  std::string media_url_allow;
  int64_t max_media_bytes = int64_t{1} << 30;
  int media_fetch_stall_seconds = 30;
  int media_fetch_timeout_seconds = 600;
  // HOST:PORT serving Prometheus /metrics; empty: not served.
  std::string metrics_listen;
  // HOST:PORT of a plaintext port serving only grpc.health.v1.Health with the
  // main port's statuses (for probes without TLS); empty: none.
  std::string health_listen;
  // How often the store (readiness), V7 (dependency_up) and the replica
  // heartbeat are checked.
  int readiness_interval_seconds = 10;
  // Authentication and tenants (service/auth). With kNone every call is
  // tenant "default", which is only allowed on a loopback --listen address
  // unless allow_insecure_remote.
  auth::AuthMode auth_mode = auth::AuthMode::kNone;
  std::string tenants_file;
  int tenants_reload_seconds = 10;
  bool allow_insecure_remote = false;
  // TLS of the gRPC listener: PEM file paths; empty = plaintext. With
  // tls_client_ca, clients must present a certificate signed by it.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // --media_root: directories beneath which every tenant's media paths may
  // be read (normalised, existing, none inside data_dir). Each tenant adds
  // its own media_roots from the tenants file.
  std::vector<std::string> media_roots;
};

// Whether the host of a HOST:PORT listen address is loopback-only
// (127.0.0.0/8, ::1, localhost) or a unix socket.
bool IsLoopbackListenAddress(const std::string& listen);

// The media roots of a tenant: its own (from the tenants file) and the
// server's --media_root list; with --auth=none and no --media_root, the
// whole file system ("/").
std::vector<std::string> EffectiveMediaRoots(const ServerConfig& config,
                                             const std::vector<std::string>& tenant_roots);

// The server's own files that media paths never read, besides everything in
// data_dir: the SQLite store (and its -wal, -shm and -journal files), the V7
// key file, the tenants file and the TLS files. Tenants' key files are not
// included (they change with the tenants file).
std::vector<std::string> ServerOwnFiles(const ServerConfig& config);

// Every value of a repeatable list flag in argv ("--name=v", "--name v",
// "-name=v", "-name v"; each value split at commas, empty parts dropped), in
// order, up to a "--" argument. nullopt when the flag is not given at all.
std::optional<std::vector<std::string>> RepeatedFlagValues(int argc, char** argv,
                                                           absl::string_view name);

// Parses argv (absl flags; --help lists the flags above) after applying the
// LABELPORT_* environment fallbacks, and validates the result.
// INVALID_ARGUMENT names the flag and the rule.
absl::StatusOr<ServerConfig> LoadServerConfig(int argc, char** argv);

}  // namespace labelport::config

#endif  // LABELPORT_SERVICE_CONFIG_SERVER_CONFIG_H_
