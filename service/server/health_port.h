#ifndef LABELPORT_SERVICE_SERVER_HEALTH_PORT_H_
#define LABELPORT_SERVICE_SERVER_HEALTH_PORT_H_

// The health statuses the server publishes, on its main gRPC port and, when
// configured (--health_listen), on a second port without TLS for probes that
// cannot speak TLS (Kubernetes' native gRPC probes).
//
// The second port serves grpc.health.v1.Health and nothing else: no
// AnnotationService, no reflection, no authentication. All it tells a caller
// is SERVING or NOT_SERVING per service name, the same statuses as the main
// port; no tenant data and no token ever cross it.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class HealthCheckServiceInterface;
class Server;
class ServerCompletionQueue;
}  // namespace grpc

namespace labelport::server {

// A plaintext gRPC server with only the default health service.
// grpc::EnableDefaultHealthCheckService(true) must have been called before.
class HealthPort {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks a free one). Errors name the
  // address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HealthPort>> Start(const std::string& listen);
  ~HealthPort();

  HealthPort(const HealthPort&) = delete;
  HealthPort& operator=(const HealthPort&) = delete;

  // The bound port (the one picked when `listen` asked for port 0).
  int port() const { return port_; }
  grpc::HealthCheckServiceInterface* health() const;
  // Stops serving; in-flight health calls get until `deadline`.
  void Shutdown(std::chrono::system_clock::time_point deadline);

 private:
  HealthPort(std::unique_ptr<grpc::Server> server, std::unique_ptr<grpc::ServerCompletionQueue> cq,
             int port);
  std::unique_ptr<grpc::Server> server_;
  // gRPC builds a server without sync or callback methods only with a
  // frequently polled completion queue; nothing is queued on it (the default
  // health service runs on its own), `poller_` just drains it until shutdown.
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread poller_;
  int port_;
};

// Sets every status on each health service it was given (the main port's
// and the health port's), so that both always answer alike.
class HealthStatuses {
 public:
  explicit HealthStatuses(std::vector<grpc::HealthCheckServiceInterface*> services)
      : services_(std::move(services)) {}
  void Set(const std::string& service_name, bool serving);
  // Every service name at once (shutdown: NOT_SERVING everywhere).
  void SetAll(bool serving);

 private:
  std::vector<grpc::HealthCheckServiceInterface*> services_;
};

}  // namespace labelport::server

#endif  // LABELPORT_SERVICE_SERVER_HEALTH_PORT_H_
