// The credentials of the gRPC listener: TLS from --tls_cert/--tls_key (and
// client-certificate verification with --tls_client_ca), else plaintext.
#ifndef LABELPORT_SERVICE_SERVER_LISTENER_CREDENTIALS_H_
#define LABELPORT_SERVICE_SERVER_LISTENER_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "absl/status/statusor.h"
#include "service/config/server_config.h"

namespace labelport::server {

// Reads the PEM files named by `config`. INVALID_ARGUMENT naming the flag and
// the file when one cannot be read or holds no PEM block. Private key bytes
// never appear in errors.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const config::ServerConfig& config);

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_LISTENER_CREDENTIALS_H_
