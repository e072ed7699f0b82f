// RpcTelemetryInterceptorFactory on a real gRPC server (InProcessServer):
// each call's request id (the client's x-request-id when acceptable, else a
// fresh one) comes back in the initial metadata and is in scope wherever
// the call's work runs (the backend's calls, on other threads); each
// finished call is recorded with its method and status code, methods the
// server does not serve as "unknown".
#include "service/api/rpc_telemetry_interceptor.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/api/in_process_server.h"
#include "tests/unit/api/in_process_server_test.h"
#include "tests/unit/api/service_test_util.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

class RpcTelemetryTest : public InProcessServerTest {
 protected:
  // The x-request-id the server sent back for a GetRun sent with
  // `request_id` ("": none).
  std::string EchoedId(const std::string& request_id) {
    grpc::ClientContext context;
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
    auto request = RunRequest<v1::GetRunRequest>("nope");
    v1::GetRunResponse response;
    EXPECT_EQ(server_->stub().GetRun(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
    const auto& metadata = context.GetServerInitialMetadata();
    auto it = metadata.find("x-request-id");
    if (it == metadata.end()) return "<none>";
    return std::string(it->second.data(), it->second.size());
  }
};

TEST_F(RpcTelemetryTest, TheClientsRequestIdComesBackOrAFreshOneIsMade) {
  EXPECT_EQ(EchoedId("client-id-123"), "client-id-123");
  const std::string fresh = EchoedId("");
  EXPECT_THAT(fresh, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(EchoedId(""), fresh);
  // Not acceptable (a space; too long): replaced.
  EXPECT_THAT(EchoedId("has space"), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(EchoedId(std::string(129, 'x')), MatchesRegex("[0-9a-f]{32}"));
}

TEST_F(RpcTelemetryTest, TheRequestIdIsInScopeWhereTheCallsWorkRuns) {
  ASSERT_TRUE(CreateRun(server_->stub(), Header("gt_run"), Images(1)).status.ok());
  WaitForState(server_->stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING);
  {
    grpc::ClientContext context;
    context.AddMetadata("x-request-id", "status-call-7");
    auto request = RunRequest<v1::GetRunStatusRequest>("gt_run");
    v1::GetRunStatusResponse response;
    ASSERT_TRUE(server_->stub().GetRunStatus(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("x-request-id", "load-call-42");
    auto request = RunRequest<v1::LoadAnnotationsRequest>("gt_run");
    request.set_cleanup(true);
    auto reader = server_->stub().LoadAnnotations(&context, request);
    v1::LoadAnnotationsResponse message;
    while (reader->Read(&message)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  EXPECT_THAT(server_->backend().request_ids(Call::kStatus), ElementsAre("status-call-7"));
  EXPECT_THAT(server_->backend().request_ids(Call::kLoad), ElementsAre("load-call-42"));
  // The clean-up the load asked for is part of the same call.
  EXPECT_THAT(server_->backend().request_ids(Call::kCleanup), ElementsAre("load-call-42"));
}

TEST_F(RpcTelemetryTest, EveryFinishedCallIsRecordedWithItsMethodAndCode) {
  EchoedId("");
  ASSERT_TRUE(
      WaitUntil([&] { return Recorded("/labelport.v1.AnnotationService/GetRun NOT_FOUND"); },
                absl::Seconds(10), "GetRun recorded"));
  CreateRunResult bad = CreateRun(server_->stub(), Header("not a key"), Images(1));
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(WaitUntil(
      [&] { return Recorded("/labelport.v1.AnnotationService/CreateRun INVALID_ARGUMENT"); },
      absl::Seconds(10), "CreateRun recorded"));

  // A method the server does not serve: one "unknown" label for all.
  grpc::GenericStub generic(server_->channel());
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&context, "/labelport.v1.AnnotationService/NoSuchMethod", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  ASSERT_TRUE(WaitUntil([&] { return Recorded("unknown UNIMPLEMENTED"); }, absl::Seconds(10),
                        "the unknown method recorded"));
  for (const std::string& rpc : server_->metrics().rpcs())
    EXPECT_EQ(rpc.find("NoSuchMethod"), std::string::npos) << rpc;
}

}  // namespace
}  // namespace labelport::testing
