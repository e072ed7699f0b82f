// Test support: the fixture of the tests that call the service through an
// InProcessServer (started with default options before each test), with the
// waits those tests share.
#ifndef LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_TEST_H_
#define LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_TEST_H_

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/unit/api/in_process_server.h"
#include "tests/unit/api/service_test_util.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {

class InProcessServerTest : public ::testing::Test {
 protected:
  using Call = FakeAnnotationBackend::Call;

  void SetUp() override { StartServer({}); }

  // Replaces the server by a new one started with `options`.
  void StartServer(InProcessServerOptions options) {
    server_.reset();
    auto started = InProcessServer::Start(std::move(options));
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  v1::AnnotationService::Stub& stub() { return server_->stub(); }
  FakeAnnotationBackend& backend() { return server_->backend(); }

  // Whether the server has recorded a finished call `rpc` ("<method> <code>").
  bool Recorded(const std::string& rpc) {
    const std::vector<std::string> rpcs = server_->metrics().rpcs();
    return std::find(rpcs.begin(), rpcs.end(), rpc) != rpcs.end();
  }

  // Releases the held uploads and waits until run `anno_key` is ANNOTATING.
  void ReleaseUploadsUntilAnnotating(const std::string& anno_key) {
    backend().Release(Call::kUpload);
    WaitForState(stub(), RunName(anno_key), v1::RUN_STATE_ANNOTATING);
  }

  // Waits until the server has finished the call `rpc` ("<method> <code>"),
  // then expects the backend's `call` (held, unless the client's deadline
  // passed before it began) to have seen the cancellation and returned.
  void ExpectBackendCallsCancelledOnceFinished(const std::string& rpc, Call call) {
    EXPECT_TRUE(WaitUntil([&] { return Recorded(rpc); }, absl::Seconds(10),
                          absl::StrCat("the server finished the call ", rpc)));
    const FakeAnnotationBackend::Counts counts = backend().counts(call);
    EXPECT_EQ(counts.waiting, 0);
    EXPECT_EQ(counts.ended, counts.started);
    EXPECT_EQ(counts.cancelled, counts.started);
  }

  // Holds the backend's uploads, creates run `anno_key` with `samples`
  // images and returns once its upload is held (wrap in
  // ASSERT_NO_FATAL_FAILURE).
  void CreateRunWithHeldUpload(const std::string& anno_key, int samples = 1) {
    backend().Hold(Call::kUpload);
    ASSERT_TRUE(CreateRun(stub(), Header(anno_key), Images(samples)).status.ok());
    ASSERT_TRUE(WaitUntil([&] { return backend().counts(Call::kUpload).waiting == 1; },
                          absl::Seconds(10), "the upload is held"));
  }

  std::unique_ptr<InProcessServer> server_;
};

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_API_IN_PROCESS_SERVER_TEST_H_
