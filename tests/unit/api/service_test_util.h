// Helpers shared by the in-process tests of the gRPC API (tests/unit/api):
// the google.rpc details of a failed call, requests with valid defaults, a
// whole CreateRun stream, and waiting for a run's state.
#ifndef LABELPORT_TESTS_UNIT_API_SERVICE_TEST_UTIL_H_
#define LABELPORT_TESTS_UNIT_API_SERVICE_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "labelport/v1/annotation_service.grpc.pb.h"
#include "tests/unit/common/cat_detections_header.h"
#include "tests/unit/common/text_proto.h"
#include "tests/unit/common/wait_until.h"

namespace labelport::testing {

namespace v1 = labelport::v1;

// What a failed call carries in its google.rpc.Status details.
struct RpcErrorDetails {
  bool parsed = false;
  int code = 0;
  std::string message;
  // google.rpc.BadRequest: the violated fields, in order.
  std::vector<std::string> fields;
  // google.rpc.ErrorInfo.
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
};

inline RpcErrorDetails DetailsOf(const grpc::Status& status) {
  RpcErrorDetails out;
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details()))
    return out;
  out.parsed = true;
  out.code = details.code();
  out.message = details.message();
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad_request;
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) out.fields.push_back(v.field());
    } else if (any.UnpackTo(&info)) {
      out.reason = info.reason();
      out.domain = info.domain();
      out.metadata.insert(info.metadata().begin(), info.metadata().end());
    }
  }
  return out;
}

// Checks a failed call as the service reports request errors: `code`, a
// message containing `message_part`, and details naming `field` (one
// BadRequest violation, ErrorInfo metadata "field") and `reason` (ErrorInfo,
// domain labelport.dev). Empty `field` / `reason`: that detail is absent.
inline void ExpectRpcError(const grpc::Status& status, grpc::StatusCode code,
                           const std::string& field, const std::string& reason,
                           const std::string& message_part) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_NE(status.error_message().find(message_part), std::string::npos)
      << "message '" << status.error_message() << "' lacks '" << message_part << "'";
  const RpcErrorDetails details = DetailsOf(status);
  if (field.empty() && reason.empty()) {
    EXPECT_FALSE(details.parsed) << "unexpected details";
    return;
  }
  ASSERT_TRUE(details.parsed) << "no google.rpc.Status details";
  EXPECT_EQ(details.code, static_cast<int>(code));
  EXPECT_EQ(details.message, status.error_message());
  if (field.empty()) {
    EXPECT_TRUE(details.fields.empty());
  } else {
    EXPECT_EQ(details.fields, std::vector<std::string>{field});
    EXPECT_EQ(details.metadata.count("field") ? details.metadata.at("field") : "", field);
  }
  EXPECT_EQ(details.reason, reason);
  if (!reason.empty()) {
    EXPECT_EQ(details.domain, "labelport.dev");
  }
}

// An image sample "<id>" with one uploaded "gt" detection (label id
// "<id>-d1").
inline v1::Sample Image(const std::string& id) {
  auto sample = Parse<v1::Sample>(R"pb(
    media_type: MEDIA_TYPE_IMAGE
    fields {
      field: "gt"
      value {
        detections {
          detections {
            label: "cat"
            bounding_box: [ 0.1, 0.1, 0.5, 0.5 ]
          }
        }
      }
    }
  )pb");
  sample.set_id(id);
  sample.mutable_media()->set_path(absl::StrCat("/data/", id, ".jpg"));
  sample.mutable_fields(0)->mutable_value()->mutable_detections()->mutable_detections(0)->set_id(
      id + "-d1");
  return sample;
}

inline std::vector<v1::Sample> Images(int n) {
  std::vector<v1::Sample> out;
  for (int i = 0; i < n; ++i) out.push_back(Image(absl::StrCat("s", i)));
  return out;
}

// A valid header of run `anno_key` on dataset "ds": field "gt", detections
// of class "cat", already in the dataset.
inline v1::CreateRunHeader Header(const std::string& anno_key) {
  v1::CreateRunHeader header = CatDetectionsHeader(anno_key);
  *header.add_existing_fields() = Parse<v1::ExistingField>(R"pb(field: "gt"
                                                                document_type: "Detections")pb");
  return header;
}

inline std::string RunName(const std::string& anno_key) {
  return absl::StrCat("datasets/ds/runs/", anno_key);
}

// A request (GetRunRequest, CleanupRunRequest, ...) naming run `anno_key`.
template <typename Request>
Request RunRequest(const std::string& anno_key) {
  Request request;
  request.set_name(RunName(anno_key));
  return request;
}

// Adds "authorization: Bearer <token>" to `context` (nothing for "").
inline void Authorize(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

// The outcome of one CreateRun stream.
struct CreateRunResult {
  grpc::Status status;
  v1::CreateRunResponse response;
};

// Sends the header, then `samples` in batches of `batch_size`, then
// half-closes; with `token`, as the tenant of that bearer token.
inline CreateRunResult CreateRun(v1::AnnotationService::Stub& stub,
                                 const v1::CreateRunHeader& header,
                                 const std::vector<v1::Sample>& samples,
                                 const std::string& token = "", int batch_size = 1000) {
  grpc::ClientContext context;
  Authorize(context, token);
  CreateRunResult result;
  auto writer = stub.CreateRun(&context, &result.response);
  v1::CreateRunRequest message;
  *message.mutable_header() = header;
  bool open = writer->Write(message);
  for (size_t i = 0; open && i < samples.size(); i += static_cast<size_t>(batch_size)) {
    message.Clear();
    for (size_t j = i; j < samples.size() && j < i + static_cast<size_t>(batch_size); ++j)
      *message.mutable_samples()->add_samples() = samples[j];
    open = writer->Write(message);
  }
  writer->WritesDone();
  result.status = writer->Finish();
  return result;
}

// GetRun through `stub`.
inline grpc::Status GetRun(v1::AnnotationService::Stub& stub, const std::string& name,
                           v1::GetRunResponse* response, const std::string& token = "") {
  grpc::ClientContext context;
  Authorize(context, token);
  v1::GetRunRequest request;
  request.set_name(name);
  return stub.GetRun(&context, request, response);
}

// Polls GetRun until the run is in `state` (10 s at most); returns the run.
inline v1::AnnotationRun WaitForState(v1::AnnotationService::Stub& stub, const std::string& name,
                                      v1::RunState state, const std::string& token = "") {
  v1::GetRunResponse last;
  grpc::Status status;
  EXPECT_TRUE(WaitUntil(
      [&] {
        status = GetRun(stub, name, &last, token);
        return status.ok() && last.run().state() == state;
      },
      absl::Seconds(10), absl::StrCat(name, " reaching ", v1::RunState_Name(state))))
      << "last: " << status.error_message() << " " << v1::RunState_Name(last.run().state());
  return last.run();
}

}  // namespace labelport::testing

#endif  // LABELPORT_TESTS_UNIT_API_SERVICE_TEST_UTIL_H_
