// AnnotationServiceImpl through a real gRPC server on its in-process channel
// (InProcessServer: the service wired as labelport-server wires it, with a
// fake backend in place of V7): every RPC's success, its main errors with
// their google.rpc details, the client streams (UploadMedia, CreateRun), the
// WatchRun server stream, and cancelled calls. LoadAnnotations is in
// load_annotations_reactor_test.cc, authentication in authenticator_test.cc.
#include "service/api/annotation_service_impl.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/api/in_process_server.h"
#include "tests/unit/api/in_process_server_test.h"
#include "tests/unit/api/service_test_util.h"
#include "tests/unit/common/content_digest.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AnnotationServiceTest : public InProcessServerTest {
 protected:
  // Creates run `anno_key` with `samples` and waits until it is ANNOTATING.
  v1::AnnotationRun CreateAnnotatingRun(const std::string& anno_key, int samples = 2) {
    CreateRunResult created = CreateRun(stub(), Header(anno_key), Images(samples));
    EXPECT_TRUE(created.status.ok()) << created.status.error_message();
    return WaitForState(stub(), RunName(anno_key), v1::RUN_STATE_ANNOTATING);
  }

  // An UploadMedia stream of a header and `chunks`.
  grpc::Status Upload(const v1::UploadMediaHeader& header, const std::vector<std::string>& chunks,
                      v1::UploadMediaResponse* response, bool send_header = true) {
    grpc::ClientContext context;
    auto writer = stub().UploadMedia(&context, response);
    v1::UploadMediaRequest message;
    bool open = true;
    if (send_header) {
      *message.mutable_header() = header;
      open = writer->Write(message);
    }
    for (const std::string& chunk : chunks) {
      if (!open) break;
      message.Clear();
      message.set_chunk(chunk);
      open = writer->Write(message);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status FindMissing(const std::vector<std::string>& digests,
                           v1::FindMissingMediaResponse* response) {
    grpc::ClientContext context;
    v1::FindMissingMediaRequest request;
    for (const auto& d : digests) request.add_content_digests(d);
    return stub().FindMissingMedia(&context, request, response);
  }

  template <typename Request, typename Response, typename Method>
  grpc::Status Unary(Method method, const Request& request, Response* response) {
    grpc::ClientContext context;
    return (stub().*method)(&context, request, response);
  }
};

// --- FindMissingMedia and UploadMedia.

TEST_F(AnnotationServiceTest, UploadedMediaIsStoredOnceAndNoLongerMissing) {
  const std::string bytes = "0123456789";
  v1::UploadMediaHeader header;
  header.set_content_digest(ContentDigest(bytes));
  header.set_size_bytes(static_cast<int64_t>(bytes.size()));

  v1::FindMissingMediaResponse missing;
  ASSERT_TRUE(FindMissing({ContentDigest(bytes), ContentDigest("other")}, &missing).ok());
  EXPECT_THAT(missing.missing_digests(), ElementsAre(ContentDigest(bytes), ContentDigest("other")));

  v1::UploadMediaResponse response;
  grpc::Status status = Upload(header, {"0123", "456789"}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.content_digest(), ContentDigest(bytes));
  EXPECT_EQ(response.size_bytes(), 10);
  EXPECT_FALSE(response.already_present());

  ASSERT_TRUE(FindMissing({ContentDigest(bytes), ContentDigest("other")}, &missing).ok());
  EXPECT_THAT(missing.missing_digests(), ElementsAre(ContentDigest("other")));

  // Idempotent: the same bytes again are acknowledged as held.
  v1::UploadMediaResponse again;
  status = Upload(header, {bytes}, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(again.already_present());
}

TEST_F(AnnotationServiceTest, FindMissingMediaNamesTheInvalidDigest) {
  v1::FindMissingMediaResponse response;
  grpc::Status status = FindMissing({ContentDigest("a"), "sha256:XYZ"}, &response);
  ExpectRpcError(status, grpc::StatusCode::INVALID_ARGUMENT, "content_digests[1]",
                 "INVALID_CONTENT_DIGEST", "'sha256:XYZ'");
}

TEST_F(AnnotationServiceTest, FindMissingMediaTakesAtMostTenThousandDigests) {
  std::vector<std::string> digests(10'001, ContentDigest("a"));
  v1::FindMissingMediaResponse response;
  ExpectRpcError(FindMissing(digests, &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "content_digests", "TOO_MANY_DIGESTS", "at most 10000 content digests; got 10001");
}

TEST_F(AnnotationServiceTest, UploadMediaRefusesStreamsOutOfOrder) {
  v1::UploadMediaHeader header;
  header.set_content_digest(ContentDigest("abc"));
  header.set_size_bytes(3);
  v1::UploadMediaResponse response;
  ExpectRpcError(Upload(header, {"abc"}, &response, /*send_header=*/false),
                 grpc::StatusCode::INVALID_ARGUMENT, "header", "HEADER_REQUIRED",
                 "The first UploadMedia message must be the header");
  ExpectRpcError(Upload(header, {}, &response, /*send_header=*/false),
                 grpc::StatusCode::INVALID_ARGUMENT, "header", "HEADER_REQUIRED",
                 "UploadMedia ended before its header was sent");

  grpc::ClientContext context;
  auto writer = stub().UploadMedia(&context, &response);
  v1::UploadMediaRequest message;
  *message.mutable_header() = header;
  writer->Write(message);
  writer->Write(message);
  writer->WritesDone();
  ExpectRpcError(writer->Finish(), grpc::StatusCode::INVALID_ARGUMENT, "header", "HEADER_REPEATED",
                 "UploadMedia takes exactly one header");
}

TEST_F(AnnotationServiceTest, UploadMediaChecksSizeAndDigest) {
  v1::UploadMediaHeader header;
  header.set_content_digest(ContentDigest("abcdefghij"));
  header.set_size_bytes(10);
  v1::UploadMediaResponse response;
  ExpectRpcError(Upload(header, {"abc"}, &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "header.size_bytes", "CONTENT_SIZE_MISMATCH",
                 "UploadMedia ended after 3 of the announced header.size_bytes 10 bytes");
  ExpectRpcError(Upload(header, {"abcdefghij", "k"}, &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "header.size_bytes", "CONTENT_SIZE_EXCEEDED",
                 "more bytes than the announced header.size_bytes 10: 11 so far");
  ExpectRpcError(Upload(header, {"ABCDEFGHIJ"}, &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "header.content_digest", "CONTENT_DIGEST_MISMATCH",
                 absl::StrCat("expected ", ContentDigest("abcdefghij"),
                              ", the 10 bytes received hash to ", ContentDigest("ABCDEFGHIJ")));
  header.set_content_digest("md5:0");
  ExpectRpcError(Upload(header, {}, &response), grpc::StatusCode::INVALID_ARGUMENT,
                 "header.content_digest", "INVALID_CONTENT_DIGEST", "'md5:0'");

  // Nothing was stored by the failed calls.
  v1::FindMissingMediaResponse missing;
  ASSERT_TRUE(FindMissing({ContentDigest("abcdefghij")}, &missing).ok());
  EXPECT_EQ(missing.missing_digests_size(), 1);
}

TEST_F(AnnotationServiceTest, UploadMediaTakesChunksOfAtMostOneMebibyte) {
  const std::string chunk((1 << 20) + 1, 'x');
  v1::UploadMediaHeader header;
  header.set_content_digest(ContentDigest(chunk));
  header.set_size_bytes(static_cast<int64_t>(chunk.size()));
  v1::UploadMediaResponse response;
  ExpectRpcError(Upload(header, {chunk}, &response), grpc::StatusCode::INVALID_ARGUMENT, "chunk",
                 "CHUNK_TOO_LARGE", "at most 1048576 bytes (1 MiB); got 1048577");
  // The same bytes in two chunks are fine.
  grpc::Status status =
      Upload(header, {chunk.substr(0, 1 << 20), chunk.substr(1 << 20)}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.size_bytes(), (1 << 20) + 1);
}

TEST_F(AnnotationServiceTest, UploadMediaKeepsTheTenantsQuota) {
  InProcessServerOptions options;
  options.max_media_bytes_per_tenant = 4;
  StartServer(options);
  v1::UploadMediaHeader header;
  header.set_content_digest(ContentDigest("0123456789"));
  header.set_size_bytes(10);
  v1::UploadMediaResponse response;
  ExpectRpcError(Upload(header, {"0123456789"}, &response), grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "header.size_bytes", "TENANT_MEDIA_QUOTA", "media quota of 4 bytes");
}

// --- CreateRun.

TEST_F(AnnotationServiceTest, CreateRunStoresTheRunAndTheWorkerUploadsIt) {
  CreateRunResult created = CreateRun(stub(), Header("gt_run"), Images(5), "", /*batch_size=*/2);
  ASSERT_TRUE(created.status.ok()) << created.status.error_message();
  EXPECT_TRUE(created.response.created());
  const v1::AnnotationRun& run = created.response.run();
  EXPECT_EQ(run.name(), "datasets/ds/runs/gt_run");
  EXPECT_EQ(run.anno_key(), "gt_run");
  EXPECT_EQ(run.backend(), "fake");  // the backend's Capabilities().name
  EXPECT_EQ(run.progress().samples_total(), 5);
  EXPECT_FALSE(run.uid().empty());

  const v1::AnnotationRun annotating =
      WaitForState(stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(annotating.uid(), run.uid());
  EXPECT_EQ(annotating.progress().samples_completed(), 5);
  EXPECT_THAT(backend().uploaded_runs(), ElementsAre("datasets/ds/runs/gt_run"));

  auto list = RunRequest<v1::ListRunSamplesRequest>("gt_run");
  v1::ListRunSamplesResponse samples;
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRunSamples, list, &samples).ok());
  EXPECT_THAT(samples.sample_ids(), ElementsAre("s0", "s1", "s2", "s3", "s4"));
}

TEST_F(AnnotationServiceTest, CreateRunIsIdempotentOnItsRequestId) {
  v1::CreateRunHeader header = Header("gt_run");
  header.set_request_id("request-1");
  CreateRunResult first = CreateRun(stub(), header, Images(1));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  CreateRunResult second = CreateRun(stub(), header, Images(1));
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_FALSE(second.response.created());
  EXPECT_EQ(second.response.run().uid(), first.response.run().uid());

  // Another request id with the same key clashes.
  header.set_request_id("request-2");
  ExpectRpcError(CreateRun(stub(), header, Images(1)).status, grpc::StatusCode::ALREADY_EXISTS,
                 "header.anno_key", "RUN_ALREADY_EXISTS",
                 "Annotation run with key 'gt_run' already exists");
}

TEST_F(AnnotationServiceTest, CreateRunValidatesHeaderAndSamples) {
  ExpectRpcError(CreateRun(stub(), Header("not a key"), Images(1)).status,
                 grpc::StatusCode::INVALID_ARGUMENT, "header.anno_key", "INVALID_RUN_KEY",
                 "'not a key'");
  std::vector<v1::Sample> samples = Images(2);
  samples[1].set_id("s0");
  ExpectRpcError(CreateRun(stub(), Header("dup"), samples).status,
                 grpc::StatusCode::INVALID_ARGUMENT, "samples[1].id", "SAMPLE_ID_DUPLICATE",
                 "Sample id 's0' appears more than once in the run");
  // Nothing was stored.
  v1::GetRunResponse got;
  EXPECT_EQ(GetRun(stub(), RunName("dup"), &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A CreateRun stream of `messages`, half-closed, and the error that ends it.
struct OutOfOrderStream {
  std::vector<v1::CreateRunRequest> messages;
  std::string field;
  std::string reason;
  std::string message;
};

TEST_F(AnnotationServiceTest, CreateRunRefusesStreamsOutOfOrder) {
  v1::CreateRunRequest samples;
  *samples.mutable_samples()->add_samples() = Image("s0");
  v1::CreateRunRequest twice;
  *twice.mutable_header() = Header("twice");
  v1::CreateRunRequest empty_run;
  *empty_run.mutable_header() = Header("empty");
  const v1::CreateRunRequest nothing;
  const OutOfOrderStream streams[] = {
      {{}, "header", "HEADER_REQUIRED", "CreateRun ended before its header was sent"},
      {{samples}, "header", "HEADER_REQUIRED", "The first CreateRun message must be the header"},
      {{twice, twice}, "header", "HEADER_REPEATED", "CreateRun takes exactly one header"},
      {{empty_run, nothing}, "samples", "MESSAGE_EMPTY", "must hold a header or samples"},
  };
  for (const OutOfOrderStream& stream : streams) {
    SCOPED_TRACE(stream.message);
    grpc::ClientContext context;
    v1::CreateRunResponse response;
    auto writer = stub().CreateRun(&context, &response);
    for (const v1::CreateRunRequest& message : stream.messages) writer->Write(message);
    writer->WritesDone();
    ExpectRpcError(writer->Finish(), grpc::StatusCode::INVALID_ARGUMENT, stream.field,
                   stream.reason, stream.message);
  }
}

TEST_F(AnnotationServiceTest, CreateRunKeepsItsLimits) {
  InProcessServerOptions options;
  options.create_run_limits.max_samples = 3;
  StartServer(options);
  CreateRunResult result = CreateRun(stub(), Header("big"), Images(4), "", /*batch_size=*/2);
  ExpectRpcError(result.status, grpc::StatusCode::INVALID_ARGUMENT, "samples", "TOO_MANY_SAMPLES",
                 "at most 3 samples (--max_run_samples); this batch brings it to 4");
  ExpectRpcError(CreateRun(stub(), Header("batch"), Images(1001), "", /*batch_size=*/1001).status,
                 grpc::StatusCode::INVALID_ARGUMENT, "samples", "BATCH_TOO_LARGE",
                 "at most 1000 samples; got 1001");
  v1::GetRunResponse got;
  EXPECT_EQ(GetRun(stub(), RunName("big"), &got).error_code(), grpc::StatusCode::NOT_FOUND);

  options.create_run_limits.max_bytes = 1000;
  StartServer(options);
  ExpectRpcError(CreateRun(stub(), Header("bytes"), Images(20)).status,
                 grpc::StatusCode::INVALID_ARGUMENT, "samples", "REQUEST_TOO_LARGE",
                 "A CreateRun call may send at most 1000 bytes (--max_create_run_mb)");
}

TEST_F(AnnotationServiceTest, CreateRunKeepsTheTenantsRunsInFlightLimit) {
  InProcessServerOptions options;
  options.max_runs_in_flight_per_tenant = 1;
  StartServer(options);
  backend().Hold(Call::kUpload);
  ASSERT_TRUE(CreateRun(stub(), Header("first"), Images(1)).status.ok());
  ExpectRpcError(CreateRun(stub(), Header("second"), Images(1)).status,
                 grpc::StatusCode::RESOURCE_EXHAUSTED, "", "TENANT_RUNS_IN_FLIGHT_LIMIT",
                 "This tenant already has 1 runs in flight (PENDING or UPLOADING); the limit is 1 "
                 "(--max_runs_in_flight_per_tenant)");
  ReleaseUploadsUntilAnnotating("first");
  CreateRunResult second = CreateRun(stub(), Header("second"), Images(1));
  EXPECT_TRUE(second.status.ok()) << second.status.error_message();
}

TEST_F(AnnotationServiceTest, ACancelledCreateRunLeavesNoRun) {
  grpc::ClientContext context;
  v1::CreateRunResponse response;
  auto writer = stub().CreateRun(&context, &response);
  v1::CreateRunRequest message;
  *message.mutable_header() = Header("cancelled");
  ASSERT_TRUE(writer->Write(message));
  message.Clear();
  *message.mutable_samples()->add_samples() = Image("s0");
  ASSERT_TRUE(writer->Write(message));
  context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  v1::GetRunResponse got;
  ExpectRpcError(GetRun(stub(), RunName("cancelled"), &got), grpc::StatusCode::NOT_FOUND, "name",
                 "RUN_NOT_FOUND", "Dataset has no annotation run key 'cancelled'");
  // The key is still free.
  CreateRunResult again = CreateRun(stub(), Header("cancelled"), Images(1));
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_TRUE(again.response.created());
}

// The schema is checked against the backend's capabilities (the fake's, not
// Darwin's): a type Darwin annotates but the fake does not is refused with
// the fake's name and list, and a header naming another backend is refused.
TEST_F(AnnotationServiceTest, CreateRunChecksTheSchemaAgainstTheBackendsCapabilities) {
  v1::CreateRunHeader segmentation = Header("seg_run");
  segmentation.mutable_label_schema()->mutable_fields(0)->set_type("segmentation");
  segmentation.clear_existing_fields();
  ExpectRpcError(CreateRun(stub(), segmentation, Images(1)).status,
                 grpc::StatusCode::INVALID_ARGUMENT, "header.label_schema.fields[0].type",
                 "FIELD_TYPE_UNSUPPORTED",
                 "unsupported label type 'segmentation'. The 'fake' backend supports "
                 "['classification', 'classifications', 'detections', 'polylines', 'keypoints']");

  v1::CreateRunHeader darwin = Header("darwin_run");
  darwin.set_backend("darwin");
  ExpectRpcError(CreateRun(stub(), darwin, Images(1)).status, grpc::StatusCode::INVALID_ARGUMENT,
                 "header.backend", "UNSUPPORTED_BACKEND",
                 "Unsupported backend 'darwin'. The available backends are ['fake']");
}

// --- GetRun, ListRuns, RenameRun, DeleteRun, ListRunSamples.

TEST_F(AnnotationServiceTest, GetRunReturnsTheRunOrNamesWhatIsWrong) {
  const v1::AnnotationRun run = CreateAnnotatingRun("gt_run");
  v1::GetRunResponse got;
  ASSERT_TRUE(GetRun(stub(), RunName("gt_run"), &got).ok());
  EXPECT_EQ(got.run().uid(), run.uid());
  EXPECT_EQ(got.run().state(), v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(got.run().label_schema().fields(0).field(), "gt");

  ExpectRpcError(GetRun(stub(), RunName("nope"), &got), grpc::StatusCode::NOT_FOUND, "name",
                 "RUN_NOT_FOUND", "Dataset has no annotation run key 'nope'");
  ExpectRpcError(GetRun(stub(), "runs/gt_run", &got), grpc::StatusCode::INVALID_ARGUMENT, "name",
                 "INVALID_RESOURCE_NAME", "'runs/gt_run' is not a run name");
}

TEST_F(AnnotationServiceTest, ListRunsPagesThroughTheDatasetsRunsByKey) {
  for (const char* key : {"c", "a", "b"}) CreateAnnotatingRun(key, 1);
  v1::ListRunsRequest request;
  request.set_parent("datasets/ds");
  request.set_page_size(2);
  v1::ListRunsResponse page;
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page).ok());
  ASSERT_EQ(page.runs_size(), 2);
  EXPECT_EQ(page.runs(0).anno_key(), "a");
  EXPECT_EQ(page.runs(1).anno_key(), "b");
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page).ok());
  ASSERT_EQ(page.runs_size(), 1);
  EXPECT_EQ(page.runs(0).anno_key(), "c");
  EXPECT_TRUE(page.next_page_token().empty());

  // Filters.
  request.Clear();
  request.set_parent("datasets/ds");
  request.set_state(v1::RUN_STATE_FAILED);
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page).ok());
  EXPECT_THAT(page.runs(), IsEmpty());
  request.set_parent("datasets/other");
  request.set_state(v1::RUN_STATE_UNSPECIFIED);
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page).ok());
  EXPECT_THAT(page.runs(), IsEmpty());
}

TEST_F(AnnotationServiceTest, ListRunsNamesTheBadArgument) {
  v1::ListRunsRequest request;
  v1::ListRunsResponse page;
  request.set_parent("ds");
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page),
                 grpc::StatusCode::INVALID_ARGUMENT, "parent", "INVALID_RESOURCE_NAME",
                 "'ds' is not a dataset name");
  request.set_parent("datasets/ds");
  request.set_page_size(-1);
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page),
                 grpc::StatusCode::INVALID_ARGUMENT, "page_size", "PAGE_SIZE_INVALID",
                 "page_size must not be negative");
  request.set_page_size(0);
  request.set_page_token("garbage");
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ListRuns, request, &page),
                 grpc::StatusCode::INVALID_ARGUMENT, "page_token", "INVALID_PAGE_TOKEN",
                 "page_token is not a token returned by this list call");
}

TEST_F(AnnotationServiceTest, RenameRunMovesTheRunToItsNewKey) {
  const v1::AnnotationRun run = CreateAnnotatingRun("old_key");
  CreateAnnotatingRun("taken");
  auto request = RunRequest<v1::RenameRunRequest>("old_key");
  request.set_new_anno_key("taken");
  v1::RenameRunResponse renamed;
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::RenameRun, request, &renamed),
                 grpc::StatusCode::ALREADY_EXISTS, "new_anno_key", "RUN_ALREADY_EXISTS",
                 "key 'taken' already exists");
  request.set_new_anno_key("1bad");
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::RenameRun, request, &renamed),
                 grpc::StatusCode::INVALID_ARGUMENT, "new_anno_key", "INVALID_RUN_KEY", "'1bad'");

  request.set_new_anno_key("new_key");
  grpc::Status status = Unary(&v1::AnnotationService::Stub::RenameRun, request, &renamed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(renamed.run().name(), RunName("new_key"));
  EXPECT_EQ(renamed.run().uid(), run.uid());
  v1::GetRunResponse got;
  EXPECT_EQ(GetRun(stub(), RunName("old_key"), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(GetRun(stub(), RunName("new_key"), &got).ok());
  EXPECT_EQ(got.run().uid(), run.uid());

  request.set_name(RunName("old_key"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::RenameRun, request, &renamed),
                 grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'old_key'");
}

TEST_F(AnnotationServiceTest, DeleteRunIsRefusedWhileTheRunUploads) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("busy"));
  auto request = RunRequest<v1::DeleteRunRequest>("busy");
  v1::DeleteRunResponse deleted;
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::DeleteRun, request, &deleted),
                 grpc::StatusCode::FAILED_PRECONDITION, "name", "RUN_UPLOADING",
                 "Run 'datasets/ds/runs/busy' is UPLOADING");

  ReleaseUploadsUntilAnnotating("busy");
  grpc::Status status = Unary(&v1::AnnotationService::Stub::DeleteRun, request, &deleted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::GetRunResponse got;
  EXPECT_EQ(GetRun(stub(), RunName("busy"), &got).error_code(), grpc::StatusCode::NOT_FOUND);
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::DeleteRun, request, &deleted),
                 grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'busy'");
}

TEST_F(AnnotationServiceTest, ListRunSamplesPagesInUploadOrder) {
  CreateAnnotatingRun("gt_run", 3);
  auto request = RunRequest<v1::ListRunSamplesRequest>("gt_run");
  request.set_page_size(2);
  v1::ListRunSamplesResponse page;
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRunSamples, request, &page).ok());
  EXPECT_THAT(page.sample_ids(), ElementsAre("s0", "s1"));
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::ListRunSamples, request, &page).ok());
  EXPECT_THAT(page.sample_ids(), ElementsAre("s2"));
  EXPECT_TRUE(page.next_page_token().empty());

  request.set_page_token("");
  request.set_page_size(-5);
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ListRunSamples, request, &page),
                 grpc::StatusCode::INVALID_ARGUMENT, "page_size", "PAGE_SIZE_INVALID",
                 "page_size must not be negative");
  request.set_page_size(0);
  request.set_name(RunName("nope"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ListRunSamples, request, &page),
                 grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'nope'");
}

// --- ResumeRun.

TEST_F(AnnotationServiceTest, ResumeRunRetriesAFailedUpload) {
  backend().SetUploadResult(absl::PermissionDeniedError("V7 refused the API key"));
  ASSERT_TRUE(CreateRun(stub(), Header("gt_run"), Images(2)).status.ok());
  const v1::AnnotationRun failed = WaitForState(stub(), RunName("gt_run"), v1::RUN_STATE_FAILED);
  EXPECT_EQ(failed.failure_reason(), "V7 refused the API key");

  backend().SetUploadResult(absl::OkStatus());
  auto request = RunRequest<v1::ResumeRunRequest>("gt_run");
  v1::ResumeRunResponse resumed;
  grpc::Status status = Unary(&v1::AnnotationService::Stub::ResumeRun, request, &resumed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resumed.run().failure_reason(), "");
  WaitForState(stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(backend().counts(Call::kUpload).started, 2);

  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ResumeRun, request, &resumed),
                 grpc::StatusCode::FAILED_PRECONDITION, "name", "RUN_NOT_FAILED",
                 "Run 'datasets/ds/runs/gt_run' is RUN_STATE_ANNOTATING");
  request.set_name(RunName("nope"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::ResumeRun, request, &resumed),
                 grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'nope'");
}

TEST_F(AnnotationServiceTest, ResumeRunRetriesFailedSamplesOfAnAnnotatingRun) {
  backend().FailSamples({"s1"}, "media file '/data/s1.jpg' is not readable");
  ASSERT_TRUE(CreateRun(stub(), Header("gt_run"), Images(3)).status.ok());
  const v1::AnnotationRun run = WaitForState(stub(), RunName("gt_run"), v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(run.progress().samples_failed(), 1);
  EXPECT_EQ(run.progress().samples_completed(), 2);

  backend().FailSamples({}, "");
  auto request = RunRequest<v1::ResumeRunRequest>("gt_run");
  v1::ResumeRunResponse resumed;
  grpc::Status status = Unary(&v1::AnnotationService::Stub::ResumeRun, request, &resumed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(WaitUntil(
      [&] {
        v1::GetRunResponse got;
        return GetRun(stub(), RunName("gt_run"), &got).ok() &&
               got.run().state() == v1::RUN_STATE_ANNOTATING &&
               got.run().progress().samples_failed() == 0;
      },
      absl::Seconds(10), "the resumed run has no failed samples"));
  EXPECT_EQ(backend().counts(Call::kUpload).started, 2);
}

// --- GetRunStatus and CleanupRun (awaitable use cases).

TEST_F(AnnotationServiceTest, GetRunStatusAnswersWithTheBackendsCounts) {
  CreateAnnotatingRun("gt_run", 3);
  auto request = RunRequest<v1::GetRunStatusRequest>("gt_run");
  v1::GetRunStatusResponse response;
  grpc::Status status = Unary(&v1::AnnotationService::Stub::GetRunStatus, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.total_items(), 3);
  ASSERT_EQ(response.counts_size(), 1);
  EXPECT_EQ(response.counts(0).status(), "new");

  backend().SetStatusResult(absl::UnavailableError("V7 answered 503 to the status query"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::GetRunStatus, request, &response),
                 grpc::StatusCode::UNAVAILABLE, "", "", "V7 answered 503 to the status query");

  request.set_name(RunName("nope"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::GetRunStatus, request, &response),
                 grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'nope'");
  request.set_name("datasets/ds");
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::GetRunStatus, request, &response),
                 grpc::StatusCode::INVALID_ARGUMENT, "name", "INVALID_RESOURCE_NAME",
                 "'datasets/ds'");
}

TEST_F(AnnotationServiceTest, GetRunStatusOfATenantWithoutCredentialsFails) {
  CreateAnnotatingRun("gt_run");
  server_->backends().RemoveCredentials("default");
  auto request = RunRequest<v1::GetRunStatusRequest>("gt_run");
  v1::GetRunStatusResponse response;
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::GetRunStatus, request, &response),
                 grpc::StatusCode::FAILED_PRECONDITION, "", "",
                 "tenant 'default' has no V7 API key");
  EXPECT_EQ(backend().counts(Call::kStatus).started, 0);
}

TEST_F(AnnotationServiceTest, GetRunStatusPastItsDeadlineStopsTheBackendCall) {
  CreateAnnotatingRun("gt_run");
  backend().Hold(Call::kStatus);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto request = RunRequest<v1::GetRunStatusRequest>("gt_run");
  v1::GetRunStatusResponse response;
  EXPECT_EQ(stub().GetRunStatus(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server ends the call once the use case has ended: the held backend
  // call (unless the deadline passed before it began) saw the cancellation.
  ExpectBackendCallsCancelledOnceFinished(
      "/labelport.v1.AnnotationService/GetRunStatus DEADLINE_EXCEEDED", Call::kStatus);
}

TEST_F(AnnotationServiceTest, CleanupRunCleansUpOnceAndAgainHarmlessly) {
  CreateAnnotatingRun("gt_run", 2);
  auto request = RunRequest<v1::CleanupRunRequest>("gt_run");
  v1::CleanupRunResponse response;
  grpc::Status status = Unary(&v1::AnnotationService::Stub::CleanupRun, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.run().state(), v1::RUN_STATE_CLEANED_UP);
  EXPECT_EQ(response.items_deleted(), 2);

  status = Unary(&v1::AnnotationService::Stub::CleanupRun, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.run().state(), v1::RUN_STATE_CLEANED_UP);
  EXPECT_EQ(response.items_deleted(), 0);
  EXPECT_EQ(backend().counts(Call::kCleanup).started, 1);
}

TEST_F(AnnotationServiceTest, CleanupRunIsRefusedWhileUploadingAndReportsBackendErrors) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("gt_run"));
  auto request = RunRequest<v1::CleanupRunRequest>("gt_run");
  v1::CleanupRunResponse response;
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::CleanupRun, request, &response),
                 grpc::StatusCode::FAILED_PRECONDITION, "name", "RUN_BUSY",
                 "Run 'datasets/ds/runs/gt_run' is still uploading");
  ReleaseUploadsUntilAnnotating("gt_run");

  backend().SetCleanupResult(absl::UnavailableError("V7 did not answer the item deletion"));
  ExpectRpcError(Unary(&v1::AnnotationService::Stub::CleanupRun, request, &response),
                 grpc::StatusCode::UNAVAILABLE, "", "", "V7 did not answer the item deletion");
  // The run is unchanged; a later clean-up may succeed.
  v1::GetRunResponse got;
  ASSERT_TRUE(GetRun(stub(), RunName("gt_run"), &got).ok());
  EXPECT_EQ(got.run().state(), v1::RUN_STATE_ANNOTATING);
}

TEST_F(AnnotationServiceTest, ACancelledCleanupStopsTheBackendAndLeavesTheRun) {
  CreateAnnotatingRun("gt_run");
  backend().Hold(Call::kCleanup);
  grpc::ClientContext context;
  auto request = RunRequest<v1::CleanupRunRequest>("gt_run");
  v1::CleanupRunResponse response;
  grpc::Status status;
  absl::Notification done;
  stub().async()->CleanupRun(&context, &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  ASSERT_TRUE(WaitUntil([&] { return backend().counts(Call::kCleanup).waiting == 1; },
                        absl::Seconds(10), "the clean-up is held"));
  context.TryCancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(WaitUntil([&] { return backend().counts(Call::kCleanup).ended == 1; },
                        absl::Seconds(10), "the clean-up call ended"));
  EXPECT_EQ(backend().counts(Call::kCleanup).cancelled, 1);
  v1::GetRunResponse got;
  ASSERT_TRUE(GetRun(stub(), RunName("gt_run"), &got).ok());
  EXPECT_EQ(got.run().state(), v1::RUN_STATE_ANNOTATING);
}

// --- WatchRun.

// Reads a WatchRun stream to its end.
struct Watched {
  std::vector<v1::WatchRunResponse> events;
  grpc::Status status;
};

Watched WatchToEnd(v1::AnnotationService::Stub& stub, const std::string& name,
                   int64_t after_sequence = 0) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::WatchRunRequest request;
  request.set_name(name);
  request.set_after_sequence(after_sequence);
  auto reader = stub.WatchRun(&context, request);
  Watched out;
  v1::WatchRunResponse event;
  while (reader->Read(&event)) out.events.push_back(event);
  out.status = reader->Finish();
  return out;
}

TEST_F(AnnotationServiceTest, WatchRunFollowsTheRunUntilItSettles) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("gt_run", 2));

  grpc::ClientContext context;
  auto reader = stub().WatchRun(&context, RunRequest<v1::WatchRunRequest>("gt_run"));
  v1::WatchRunResponse event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.run().state(), v1::RUN_STATE_UPLOADING);
  EXPECT_EQ(event.sequence(), event.run().revision());
  std::vector<v1::WatchRunResponse> events{event};

  backend().Release(Call::kUpload);
  while (reader->Read(&event)) events.push_back(event);
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(events.size(), 2u);
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_GT(events[i].sequence(), events[i - 1].sequence());
  EXPECT_EQ(events.back().run().state(), v1::RUN_STATE_ANNOTATING);
  EXPECT_EQ(events.back().run().progress().samples_completed(), 2);
  EXPECT_TRUE(WaitUntil([&] { return server_->watch_hub().watched_runs() == 0; }, absl::Seconds(10),
                        "the watch was dropped"));
}

TEST_F(AnnotationServiceTest, AWatchFollowsTheRunThroughARename) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("old_key"));
  grpc::ClientContext context;
  auto reader = stub().WatchRun(&context, RunRequest<v1::WatchRunRequest>("old_key"));
  v1::WatchRunResponse event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.run().name(), RunName("old_key"));

  auto rename = RunRequest<v1::RenameRunRequest>("old_key");
  rename.set_new_anno_key("new_key");
  v1::RenameRunResponse renamed;
  ASSERT_TRUE(Unary(&v1::AnnotationService::Stub::RenameRun, rename, &renamed).ok());
  backend().Release(Call::kUpload);
  v1::WatchRunResponse last = event;
  while (reader->Read(&event)) last = event;
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(last.run().name(), RunName("new_key"));
  EXPECT_EQ(last.run().state(), v1::RUN_STATE_ANNOTATING);
}

TEST_F(AnnotationServiceTest, WatchRunOfASettledRunSendsItOnceOrResumesWithNothing) {
  CreateAnnotatingRun("gt_run");
  Watched first = WatchToEnd(stub(), RunName("gt_run"));
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ASSERT_EQ(first.events.size(), 1u);
  EXPECT_EQ(first.events[0].run().state(), v1::RUN_STATE_ANNOTATING);

  Watched resumed = WatchToEnd(stub(), RunName("gt_run"), first.events[0].sequence());
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  EXPECT_THAT(resumed.events, IsEmpty());
}

TEST_F(AnnotationServiceTest, WatchRunNamesAMissingRun) {
  Watched watched = WatchToEnd(stub(), RunName("nope"));
  EXPECT_THAT(watched.events, IsEmpty());
  ExpectRpcError(watched.status, grpc::StatusCode::NOT_FOUND, "name", "RUN_NOT_FOUND", "'nope'");
  watched = WatchToEnd(stub(), "nope");
  ExpectRpcError(watched.status, grpc::StatusCode::INVALID_ARGUMENT, "name",
                 "INVALID_RESOURCE_NAME", "'nope'");
}

// A watch that ends right after its resolve (missing run, settled run)
// finishes from the executor, where nothing waits for the resolve to return
// before OnDone deletes the reactor: the reactor must not be touched after
// Finish (a sanitizer build reported the unlock of its freed mutex).
TEST_F(AnnotationServiceTest, WatchesThatEndAtOnceEndCleanly) {
  CreateAnnotatingRun("gt_run");
  for (int i = 0; i < 200; ++i) {
    Watched missing = WatchToEnd(stub(), RunName("nope"));
    ASSERT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND);
    Watched settled = WatchToEnd(stub(), RunName("gt_run"), /*after_sequence=*/1'000'000);
    ASSERT_TRUE(settled.status.ok()) << settled.status.error_message();
    ASSERT_TRUE(settled.events.empty());
  }
}

TEST_F(AnnotationServiceTest, ACancelledWatchEndsAndDropsItsRegistration) {
  ASSERT_NO_FATAL_FAILURE(CreateRunWithHeldUpload("gt_run"));
  grpc::ClientContext context;
  auto reader = stub().WatchRun(&context, RunRequest<v1::WatchRunRequest>("gt_run"));
  v1::WatchRunResponse event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(server_->watch_hub().watched_runs(), 1u);
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(WaitUntil([&] { return server_->watch_hub().watched_runs() == 0; }, absl::Seconds(10),
                        "the cancelled watch was dropped"));
  EXPECT_TRUE(WaitUntil([&] { return server_->run_changes().watched_runs() == 0; },
                        absl::Seconds(10), "the run's change subscription was dropped"));
}

}  // namespace
}  // namespace labelport::testing
