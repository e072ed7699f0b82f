#include "service/server/listener_credentials.h"

#include <grpcpp/security/server_credentials.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/small_file.h"

namespace labelport::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  // Certificate chains and keys are a few KiB; a larger file is a mistake.
  absl::StatusOr<std::string> read = common::ReadSmallFile(path, 1 << 20, "the PEM file");
  if (!read.ok())
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", read.status().message()));
  std::string pem = *std::move(read);
  if (!absl::StrContains(pem, "-----BEGIN "))
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": '", path, "' holds no PEM block (-----BEGIN ...)"));
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const config::ServerConfig& config) {
  if (config.tls_cert.empty()) return grpc::InsecureServerCredentials();
  auto cert = ReadPem("tls_cert", config.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("tls_key", config.tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({.private_key = *key, .cert_chain = *cert});
  if (!config.tls_client_ca.empty()) {
    auto ca = ReadPem("tls_client_ca", config.tls_client_ca);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace labelport::server
