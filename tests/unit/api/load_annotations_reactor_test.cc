// LoadAnnotationsReactor through a real gRPC server on its in-process
// channel (InProcessServer, fake backend): the stream's order (progress, one
// message per sample and field, progress, summary), the merge's changes, the
// errors before and during the stream, and a client that cancels or lets
// its deadline pass while the backend is busy: the backend sees the
// cancellation, the call ends CANCELLED / DEADLINE_EXCEEDED, and nothing of
// the aborted load stays behind.
#include "service/api/load_annotations_reactor.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/api/in_process_server.h"
#include "tests/unit/api/in_process_server_test.h"
#include "tests/unit/api/service_test_util.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Loaded {
  std::vector<v1::LoadAnnotationsResponse> messages;
  grpc::Status status;
};

// "gt" of sample s1 as "V7" has it after an annotator moved the uploaded box
// and drew a new one.
v1::FieldValue EditedInV7() {
  return Parse<v1::FieldValue>(R"pb(
    detections {
      detections {
        id: "s1-d1"
        label: "cat"
        bounding_box: [ 0.2, 0.2, 0.5, 0.5 ]
      }
      detections {
        id: "v7-new"
        label: "cat"
        bounding_box: [ 0.6, 0.6, 0.2, 0.2 ]
      }
    }
  )pb");
}

class LoadAnnotationsTest : public InProcessServerTest {
 protected:
  void CreateAnnotatingRun(const std::string& anno_key, int samples) {
    CreateRunResult created = CreateRun(stub(), Header(anno_key), Images(samples));
    ASSERT_TRUE(created.status.ok()) << created.status.error_message();
    WaitForState(stub(), RunName(anno_key), v1::RUN_STATE_ANNOTATING);
  }

  Loaded Load(const v1::LoadAnnotationsRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto reader = stub().LoadAnnotations(&context, request);
    Loaded out;
    v1::LoadAnnotationsResponse message;
    while (reader->Read(&message)) out.messages.push_back(message);
    out.status = reader->Finish();
    return out;
  }

  Loaded Load(const std::string& anno_key) {
    auto request = RunRequest<v1::LoadAnnotationsRequest>(anno_key);
    return Load(request);
  }
};

std::vector<const v1::SampleFieldChanges*> ChangesOf(const Loaded& loaded) {
  std::vector<const v1::SampleFieldChanges*> out;
  for (const auto& m : loaded.messages)
    if (m.has_changes()) out.push_back(&m.changes());
  return out;
}

TEST_F(LoadAnnotationsTest, StreamsProgressThenChangesPerSampleThenTheSummary) {
  CreateAnnotatingRun("gt_run", 2);
  backend().SetDownloaded("s1", "gt", EditedInV7());

  Loaded loaded = Load("gt_run");
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.error_message();
  ASSERT_EQ(loaded.messages.size(), 7u);
  const auto& m = loaded.messages;
  EXPECT_EQ(m[0].progress().stage(), v1::LOAD_STAGE_EXPORT_REQUESTED);
  EXPECT_EQ(m[1].progress().stage(), v1::LOAD_STAGE_EXPORT_READY);
  EXPECT_EQ(m[2].progress().stage(), v1::LOAD_STAGE_PARSING);
  EXPECT_EQ(m[2].progress().items_total(), 2);

  ASSERT_TRUE(m[3].has_changes());
  const v1::SampleFieldChanges& s0 = m[3].changes();
  EXPECT_EQ(s0.sample_id(), "s0");
  EXPECT_EQ(s0.field(), "gt");
  EXPECT_EQ(s0.dest_field(), "gt");
  EXPECT_EQ(s0.return_type(), "detections");
  EXPECT_THAT(s0.added_ids(), IsEmpty());
  EXPECT_THAT(s0.edited_ids(), IsEmpty());
  EXPECT_THAT(s0.deleted_ids(), IsEmpty());

  ASSERT_TRUE(m[4].has_changes());
  const v1::SampleFieldChanges& s1 = m[4].changes();
  EXPECT_EQ(s1.sample_id(), "s1");
  EXPECT_THAT(s1.edited_ids(), ElementsAre("s1-d1"));
  EXPECT_EQ(s1.added_ids_size(), 1);
  EXPECT_EQ(s1.merged().detections().detections_size(), 2);

  EXPECT_EQ(m[5].progress().items_parsed(), 2);
  ASSERT_TRUE(m[6].has_summary());
  ASSERT_EQ(m[6].summary().fields_size(), 1);
  const v1::FieldLoadSummary& gt = m[6].summary().fields(0);
  EXPECT_EQ(gt.field(), "gt");
  EXPECT_EQ(gt.added(), 1);
  EXPECT_EQ(gt.edited(), 1);
  EXPECT_EQ(gt.unchanged(), 1);
  EXPECT_FALSE(m[6].summary().cleaned_up());

  // The load's result became the baseline: the same labels again are no change.
  Loaded again = Load("gt_run");
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  for (const auto* changes : ChangesOf(again)) {
    EXPECT_THAT(changes->added_ids(), IsEmpty()) << changes->sample_id();
    EXPECT_THAT(changes->edited_ids(), IsEmpty()) << changes->sample_id();
  }
  EXPECT_EQ(again.messages.back().summary().fields(0).unchanged(), 3);
}

TEST_F(LoadAnnotationsTest, LoadsIntoADestinationFieldAndCleansUpWhenAsked) {
  CreateAnnotatingRun("gt_run", 1);
  auto request = RunRequest<v1::LoadAnnotationsRequest>("gt_run");
  request.set_dest_field("reviewed");
  request.set_cleanup(true);
  Loaded loaded = Load(request);
  ASSERT_TRUE(loaded.status.ok()) << loaded.status.error_message();
  std::vector<const v1::SampleFieldChanges*> changes = ChangesOf(loaded);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0]->field(), "gt");
  EXPECT_EQ(changes[0]->dest_field(), "reviewed");
  // Into a new field every label is new.
  EXPECT_EQ(changes[0]->added_ids_size(), 1);
  ASSERT_TRUE(loaded.messages.back().has_summary());
  EXPECT_TRUE(loaded.messages.back().summary().cleaned_up());
  EXPECT_EQ(backend().counts(Call::kCleanup).ended, 1);
  v1::GetRunResponse got;
  ASSERT_TRUE(GetRun(stub(), RunName("gt_run"), &got).ok());
  EXPECT_EQ(got.run().state(), v1::RUN_STATE_CLEANED_UP);
}

TEST_F(LoadAnnotationsTest, ErrorsBeforeTheStreamNameTheInput) {
  Loaded loaded = Load("nope");
  EXPECT_THAT(loaded.messages, IsEmpty());
  ExpectRpcError(loaded.status, grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'nope'");

  CreateAnnotatingRun("gt_run", 1);
  auto request = RunRequest<v1::LoadAnnotationsRequest>("gt_run");
  (*request.mutable_dest_fields())["nope"] = "x";
  loaded = Load(request);
  EXPECT_THAT(loaded.messages, IsEmpty());
  ExpectRpcError(loaded.status, grpc::StatusCode::INVALID_ARGUMENT, "dest_fields[nope]",
                 "DEST_FIELD_UNKNOWN", "dest_fields names 'nope', which is not a field of the run");

  server_->backends().RemoveCredentials("default");
  loaded = Load("gt_run");
  ExpectRpcError(loaded.status, grpc::StatusCode::FAILED_PRECONDITION, "", "",
                 "tenant 'default' has no V7 API key");
  EXPECT_EQ(backend().counts(Call::kLoad).started, 0);
}

TEST_F(LoadAnnotationsTest, ARunStillUploadingCannotBeLoaded) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("gt_run"));
  Loaded loaded = Load("gt_run");
  EXPECT_THAT(loaded.messages, IsEmpty());
  ExpectRpcError(loaded.status, grpc::StatusCode::FAILED_PRECONDITION, "name", "RUN_NOT_READY",
                 "Run 'datasets/ds/runs/gt_run' is RUN_STATE_UPLOADING; annotations can be "
                 "loaded once it is ANNOTATING");
}

TEST_F(LoadAnnotationsTest, ABackendErrorEndsTheStreamAndChangesNothing) {
  CreateAnnotatingRun("gt_run", 2);
  backend().SetDownloaded("s1", "gt", EditedInV7());
  backend().SetLoadResult(absl::UnavailableError("the export archive of V7 was truncated"));
  Loaded failed = Load("gt_run");
  ExpectRpcError(failed.status, grpc::StatusCode::UNAVAILABLE, "", "",
                 "the export archive of V7 was truncated");
  EXPECT_FALSE(failed.messages.empty());
  for (const auto& m : failed.messages) EXPECT_FALSE(m.has_summary());

  // The failed load's merge was not kept: the retry reports the same changes.
  backend().SetLoadResult(absl::OkStatus());
  Loaded retried = Load("gt_run");
  ASSERT_TRUE(retried.status.ok()) << retried.status.error_message();
  ASSERT_TRUE(retried.messages.back().has_summary());
  EXPECT_EQ(retried.messages.back().summary().fields(0).edited(), 1);
  EXPECT_EQ(retried.messages.back().summary().fields(0).added(), 1);
}

TEST_F(LoadAnnotationsTest, AClientThatCancelsMidStreamStopsTheLoad) {
  CreateAnnotatingRun("gt_run", 2);
  backend().SetDownloaded("s1", "gt", EditedInV7());
  backend().Hold(Call::kLoad);
  grpc::ClientContext context;
  auto reader = stub().LoadAnnotations(&context, RunRequest<v1::LoadAnnotationsRequest>("gt_run"));
  v1::LoadAnnotationsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.progress().stage(), v1::LOAD_STAGE_EXPORT_REQUESTED);
  ASSERT_TRUE(WaitUntil([&] { return backend().counts(Call::kLoad).waiting == 1; },
                        absl::Seconds(10), "the load is held"));

  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The backend saw the cancellation and returned; the server ended the call.
  EXPECT_TRUE(WaitUntil([&] { return backend().counts(Call::kLoad).ended == 1; }, absl::Seconds(10),
                        "the backend's load ended"));
  EXPECT_EQ(backend().counts(Call::kLoad).cancelled, 1);
  EXPECT_TRUE(WaitUntil(
      [&] { return Recorded("/labelport.v1.AnnotationService/LoadAnnotations CANCELLED"); },
      absl::Seconds(10), "the server finished the call CANCELLED"));

  // Nothing of the cancelled load stayed: a new load reports the changes.
  backend().Release(Call::kLoad);
  Loaded next = Load("gt_run");
  ASSERT_TRUE(next.status.ok()) << next.status.error_message();
  EXPECT_EQ(next.messages.back().summary().fields(0).edited(), 1);
}

TEST_F(LoadAnnotationsTest, ALoadPastItsDeadlineEndsDeadlineExceeded) {
  CreateAnnotatingRun("gt_run", 1);
  backend().Hold(Call::kLoad);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto reader = stub().LoadAnnotations(&context, RunRequest<v1::LoadAnnotationsRequest>("gt_run"));
  v1::LoadAnnotationsResponse message;
  std::vector<v1::LoadAnnotationsResponse> messages;
  while (reader->Read(&message)) messages.push_back(message);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  for (const auto& m : messages) EXPECT_TRUE(m.has_progress());
  // Once the server has ended the call, the backend's load (held, unless the
  // deadline passed before it began) has seen the cancellation and returned.
  ExpectBackendCallsCancelledOnceFinished(
      "/labelport.v1.AnnotationService/LoadAnnotations CANCELLED", Call::kLoad);
}

}  // namespace
}  // namespace labelport::testing
