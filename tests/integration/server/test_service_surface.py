"""The service surface: RPCs not implemented yet say so, standard health checking and server
reflection are served."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import call_error, run_name

# Every RPC of labelport.v1.AnnotationService as of this version of the API.
ALL_RPCS = {
    "FindMissingMedia",
    "UploadMedia",
    "CreateRun",
    "WatchRun",
    "GetRun",
    "ListRuns",
    "RenameRun",
    "DeleteRun",
    "GetRunStatus",
    "LoadAnnotations",
    "CleanupRun",
    "ListRunSamples",
}

UNIMPLEMENTED_CALLS = [
    ("GetRunStatus", lambda stub: stub.GetRunStatus(svc.GetRunStatusRequest(name=run_name("k")))),
    ("CleanupRun", lambda stub: stub.CleanupRun(svc.CleanupRunRequest(name=run_name("k")))),
    # A server stream: the error surfaces when the stream is read.
    (
        "LoadAnnotations",
        lambda stub: list(stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=run_name("k")))),
    ),
]


@pytest.mark.parametrize(
    "rpc, call", UNIMPLEMENTED_CALLS, ids=[name for name, _ in UNIMPLEMENTED_CALLS]
)
def test_unimplemented_rpcs_answer_unimplemented_naming_the_rpc(stub, rpc, call):
    err = call_error(call, stub)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert err.details().startswith(f"{rpc} is not implemented yet: "), err.details()


def test_health_check_reports_serving(server):
    health = health_pb2_grpc.HealthStub(server.channel)
    response = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_and_describes_the_annotation_service(server):
    reflection = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="labelport.v1.AnnotationService"
        ),
    ]
    listed, described = list(reflection.ServerReflectionInfo(iter(requests), timeout=10))

    names = {s.name for s in listed.list_services_response.service}
    assert "labelport.v1.AnnotationService" in names
    assert "grpc.health.v1.Health" in names

    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in described.file_descriptor_response.file_descriptor_proto
    ]
    service_file = next(f for f in files if f.name == "labelport/v1/annotation_service.proto")
    (service,) = [s for s in service_file.service if s.name == "AnnotationService"]
    served = {m.name for m in service.method}
    assert served >= ALL_RPCS, served
