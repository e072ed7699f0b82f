// Authenticator as every handler applies it, through a real gRPC server on
// its in-process channel (InProcessServer): with --auth=token a call without
// credentials, with malformed or unknown ones is UNAUTHENTICATED (every RPC,
// unary and streaming, before any work), the message says what is wrong and
// never echoes the token; a valid token acts as its tenant, and tenants do
// not see each other's runs or media. --auth=none: every caller is tenant
// "default". --auth=mtls without a client certificate: UNAUTHENTICATED.
#include "service/api/authenticator.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "tests/unit/api/in_process_server.h"
#include "tests/unit/api/service_test_util.h"
#include "tests/unit/common/content_digest.h"

namespace labelport::testing {
namespace {

using Call = FakeAnnotationBackend::Call;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kTokenA[] = "token-of-tenant-a-0123456789";
constexpr char kTokenB[] = "token-of-tenant-b-9876543210";

std::unique_ptr<InProcessServer> StartServer(auth::AuthMode mode) {
  InProcessServerOptions options;
  options.auth_mode = mode;
  options.tenants = {{.name = "tenant-a", .token = kTokenA, .client_identity = "a-client"},
                     {.name = "tenant-b", .token = kTokenB, .client_identity = "b-client"}};
  auto started = InProcessServer::Start(std::move(options));
  EXPECT_TRUE(started.ok()) << started.status();
  return started.ok() ? *std::move(started) : nullptr;
}

using Stub = v1::AnnotationService::Stub;

// Calls unary `method` with a request naming run `name`.
template <typename Request, typename Response>
grpc::Status CallOnRun(Stub& stub, grpc::ClientContext& context,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                       const std::string& name) {
  Request request;
  request.set_name(name);
  Response response;
  return (stub.*method)(&context, request, &response);
}

// Calls server-streaming `method` with a request naming run `name` and reads
// the stream to its end.
template <typename Request, typename Message>
grpc::Status ReadRunStream(Stub& stub, grpc::ClientContext& context,
                           std::unique_ptr<grpc::ClientReader<Message>> (Stub::*method)(
                               grpc::ClientContext*, const Request&),
                           const std::string& name) {
  Request request;
  request.set_name(name);
  auto reader = (stub.*method)(&context, request);
  Message message;
  while (reader->Read(&message)) {
  }
  return reader->Finish();
}

// Calls client-streaming `method`, writes `message` and half-closes.
template <typename Message, typename Response>
grpc::Status WriteOne(
    Stub& stub, grpc::ClientContext& context,
    std::unique_ptr<grpc::ClientWriter<Message>> (Stub::*method)(grpc::ClientContext*, Response*),
    const Message& message) {
  Response response;
  auto writer = (stub.*method)(&context, &response);
  writer->Write(message);
  writer->WritesDone();
  return writer->Finish();
}

// Calls RPC number `i` of the service with `prepare` applied to the context
// and minimal requests; returns the call's status. Streams send one valid
// message (as far as they have one) and half-close.
using Prepare = std::function<void(grpc::ClientContext&)>;
constexpr int kRpcCount = 13;

std::pair<std::string, grpc::Status> CallRpc(Stub& stub, int i, const Prepare& prepare) {
  grpc::ClientContext context;
  prepare(context);
  const std::string name = RunName("gt_run");
  switch (i) {
    case 0: {
      v1::FindMissingMediaRequest request;
      request.add_content_digests(ContentDigest("x"));
      v1::FindMissingMediaResponse response;
      return {"FindMissingMedia", stub.FindMissingMedia(&context, request, &response)};
    }
    case 1: {
      v1::UploadMediaRequest message;
      message.mutable_header()->set_content_digest(ContentDigest("x"));
      message.mutable_header()->set_size_bytes(1);
      return {"UploadMedia", WriteOne(stub, context, &Stub::UploadMedia, message)};
    }
    case 2: {
      v1::CreateRunRequest message;
      *message.mutable_header() = Header("gt_run");
      return {"CreateRun", WriteOne(stub, context, &Stub::CreateRun, message)};
    }
    case 3:
      return {"GetRun", CallOnRun(stub, context, &Stub::GetRun, name)};
    case 4:
      return {"WatchRun", ReadRunStream(stub, context, &Stub::WatchRun, name)};
    case 5: {
      v1::ListRunsRequest request;
      request.set_parent("datasets/ds");
      v1::ListRunsResponse response;
      return {"ListRuns", stub.ListRuns(&context, request, &response)};
    }
    case 6: {
      v1::RenameRunRequest request;
      request.set_name(name);
      request.set_new_anno_key("renamed");
      v1::RenameRunResponse response;
      return {"RenameRun", stub.RenameRun(&context, request, &response)};
    }
    case 7:
      return {"DeleteRun", CallOnRun(stub, context, &Stub::DeleteRun, name)};
    case 8:
      return {"GetRunStatus", CallOnRun(stub, context, &Stub::GetRunStatus, name)};
    case 9:
      return {"LoadAnnotations", ReadRunStream(stub, context, &Stub::LoadAnnotations, name)};
    case 10:
      return {"CleanupRun", CallOnRun(stub, context, &Stub::CleanupRun, name)};
    case 11:
      return {"ListRunSamples", CallOnRun(stub, context, &Stub::ListRunSamples, name)};
    default:
      return {"ResumeRun", CallOnRun(stub, context, &Stub::ResumeRun, name)};
  }
}

TEST(AuthenticatorTest, EveryRpcRefusesACallWithoutCredentials) {
  // A new RPC needs a case in CallRpc.
  ASSERT_EQ(google::protobuf::DescriptorPool::generated_pool()
                ->FindServiceByName(v1::AnnotationService::service_full_name())
                ->method_count(),
            kRpcCount);
  auto server = StartServer(auth::AuthMode::kToken);
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < kRpcCount; ++i) {
    auto [rpc, status] = CallRpc(server->stub(), i, [](grpc::ClientContext&) {});
    SCOPED_TRACE(rpc);
    ExpectRpcError(status, grpc::StatusCode::UNAUTHENTICATED, "", "",
                   "missing credentials: this server requires a bearer token in the "
                   "'authorization' metadata");
  }
  // Nothing was done on their behalf.
  EXPECT_TRUE(server->backends().requested_tenants().empty());
  EXPECT_EQ(server->backend().counts(Call::kUpload).started, 0);
}

TEST(AuthenticatorTest, MalformedOrUnknownTokensAreRefusedWithoutEchoingThem) {
  auto server = StartServer(auth::AuthMode::kToken);
  ASSERT_NE(server, nullptr);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"Basic dXNlcjpwYXNz"}, "the 'authorization' metadata must be 'Bearer <token>'"},
      {{"Bearer"}, "the 'authorization' metadata must be 'Bearer <token>'"},
      {{"Bearer not-a-known-token-42"}, "the bearer token is not valid (unknown or revoked)"},
      {{absl::StrCat("Bearer ", kTokenA), absl::StrCat("Bearer ", kTokenA)},
       "the 'authorization' metadata must be sent once"},
  };
  for (const auto& test_case : cases) {
    // (Named, not a structured binding: clang 14 cannot capture one.)
    const std::vector<std::string>& values = test_case.first;
    const std::string& message = test_case.second;
    for (int i = 0; i < kRpcCount; ++i) {
      auto [rpc, status] = CallRpc(server->stub(), i, [&values](grpc::ClientContext& context) {
        for (const std::string& value : values) context.AddMetadata("authorization", value);
      });
      SCOPED_TRACE(absl::StrCat(rpc, " with ", values.size(), " value(s)"));
      ExpectRpcError(status, grpc::StatusCode::UNAUTHENTICATED, "", "", message);
      EXPECT_THAT(status.error_message(), Not(HasSubstr("not-a-known-token-42")));
      EXPECT_THAT(status.error_message(), Not(HasSubstr(kTokenA)));
    }
  }
}

TEST(AuthenticatorTest, AValidTokenActsAsItsTenant) {
  auto server = StartServer(auth::AuthMode::kToken);
  ASSERT_NE(server, nullptr);
  CreateRunResult created = CreateRun(server->stub(), Header("gt_run"), Images(1), kTokenA);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  WaitForState(server->stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING, kTokenA);
  // The upload used tenant-a's backend.
  EXPECT_THAT(server->backends().requested_tenants(), Contains("tenant-a"));
  EXPECT_THAT(server->backends().requested_tenants(), Not(Contains("tenant-b")));

  // The scheme is case-insensitive.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("bearer ", kTokenA));
  auto request = RunRequest<v1::GetRunRequest>("gt_run");
  v1::GetRunResponse response;
  grpc::Status status = server->stub().GetRun(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.run().uid(), created.response.run().uid());
}

TEST(AuthenticatorTest, ATenantCannotSeeAnotherTenantsRunsOrMedia) {
  auto server = StartServer(auth::AuthMode::kToken);
  ASSERT_NE(server, nullptr);
  v1::AnnotationService::Stub& stub = server->stub();
  ASSERT_TRUE(CreateRun(stub, Header("gt_run"), Images(1), kTokenA).status.ok());
  WaitForState(stub, RunName("gt_run"), v1::RUN_STATE_ANNOTATING, kTokenA);
  const std::string digest = ContentDigest("x");
  {
    grpc::ClientContext context;
    Authorize(context, kTokenA);
    v1::UploadMediaResponse response;
    auto writer = stub.UploadMedia(&context, &response);
    v1::UploadMediaRequest message;
    message.mutable_header()->set_content_digest(digest);
    message.mutable_header()->set_size_bytes(1);
    writer->Write(message);
    message.set_chunk("x");
    writer->Write(message);
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
  }

  // Every run RPC of tenant-b misses tenant-a's run.
  const auto as_b = [](grpc::ClientContext& context) { Authorize(context, kTokenB); };
  for (int i = 3; i < kRpcCount; ++i) {
    if (i == 5) continue;  // ListRuns: below
    auto [rpc, status] = CallRpc(stub, i, as_b);
    SCOPED_TRACE(rpc);
    ExpectRpcError(status, grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND",
                   "Dataset has no annotation run key 'gt_run'");
  }
  {
    grpc::ClientContext context;
    Authorize(context, kTokenB);
    v1::ListRunsRequest request;
    request.set_parent("datasets/ds");
    v1::ListRunsResponse response;
    ASSERT_TRUE(stub.ListRuns(&context, request, &response).ok());
    EXPECT_THAT(response.runs(), IsEmpty());
  }
  {
    grpc::ClientContext context;
    Authorize(context, kTokenB);
    v1::FindMissingMediaRequest request;
    request.add_content_digests(digest);
    v1::FindMissingMediaResponse response;
    ASSERT_TRUE(stub.FindMissingMedia(&context, request, &response).ok());
    EXPECT_THAT(response.missing_digests(), ElementsAre(digest));
  }
  // tenant-b has a key space of its own; tenant-a's run is unchanged.
  CreateRunResult b_run = CreateRun(stub, Header("gt_run"), Images(2), kTokenB);
  ASSERT_TRUE(b_run.status.ok()) << b_run.status.error_message();
  v1::GetRunResponse a_run;
  ASSERT_TRUE(GetRun(stub, RunName("gt_run"), &a_run, kTokenA).ok());
  EXPECT_NE(a_run.run().uid(), b_run.response.run().uid());
  EXPECT_EQ(a_run.run().progress().samples_total(), 1);
  EXPECT_EQ(a_run.run().state(), v1::RUN_STATE_ANNOTATING);
}

TEST(AuthenticatorTest, WithoutAuthenticationEveryCallerIsTheDefaultTenant) {
  auto server = StartServer(auth::AuthMode::kNone);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(CreateRun(server->stub(), Header("gt_run"), Images(1)).status.ok());
  WaitForState(server->stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING);
  EXPECT_THAT(server->backends().requested_tenants(), Contains("default"));
  // A token, even an unknown one, changes nothing.
  v1::GetRunResponse response;
  EXPECT_TRUE(GetRun(server->stub(), RunName("gt_run"), &response, "whatever").ok());
}

TEST(AuthenticatorTest, MutualTlsRefusesACallWithoutAClientCertificate) {
  auto server = StartServer(auth::AuthMode::kMtls);
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < kRpcCount; ++i) {
    // A bearer token is no substitute for the certificate.
    auto [rpc, status] = CallRpc(server->stub(), i,
                                 [](grpc::ClientContext& context) { Authorize(context, kTokenA); });
    SCOPED_TRACE(rpc);
    ExpectRpcError(status, grpc::StatusCode::UNAUTHENTICATED, "", "",
                   "missing credentials: this server requires a TLS client certificate");
  }
}

}  // namespace
}  // namespace labelport::testing
