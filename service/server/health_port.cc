#include "service/server/health_port.h"

#include <grpcpp/completion_queue.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labelport::server {

absl::StatusOr<std::unique_ptr<HealthPort>> HealthPort::Start(const std::string& listen) {
  grpc::ServerBuilder builder;
  int port = 0;
  // Deliberately without TLS: this port carries health statuses only.
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  // Health requests are a service name; nothing bigger needs to be accepted.
  builder.SetMaxReceiveMessageSize(4096);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("--health_listen: cannot listen on '", listen, "'"));
  }
  auto health_port =
      std::unique_ptr<HealthPort>(new HealthPort(std::move(server), std::move(cq), port));
  if (health_port->health() == nullptr) {
    return absl::FailedPreconditionError(
        "--health_listen: the default health service is not enabled");
  }
  return health_port;
}

HealthPort::HealthPort(std::unique_ptr<grpc::Server> server,
                       std::unique_ptr<grpc::ServerCompletionQueue> cq, int port)
    : server_(std::move(server)), cq_(std::move(cq)), port_(port) {
  poller_ = std::thread([cq = cq_.get()] {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
    }
  });
}

HealthPort::~HealthPort() { Shutdown(std::chrono::system_clock::now()); }

grpc::HealthCheckServiceInterface* HealthPort::health() const {
  return server_->GetHealthCheckService();
}

void HealthPort::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (server_ == nullptr) return;
  server_->Shutdown(deadline);
  server_->Wait();
  cq_->Shutdown();
  poller_.join();
  server_.reset();
  cq_.reset();
}

void HealthStatuses::Set(const std::string& service_name, bool serving) {
  for (grpc::HealthCheckServiceInterface* s : services_) s->SetServingStatus(service_name, serving);
}

void HealthStatuses::SetAll(bool serving) {
  for (grpc::HealthCheckServiceInterface* s : services_) s->SetServingStatus(serving);
}

}  // namespace labelport::server
