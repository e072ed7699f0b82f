"""The service surface: the V7-facing RPCs fail clearly without a run or without V7
credentials, standard health checking and server reflection are served."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import call_error, create_run, header, run_name

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
    "ResumeRun",
}

BACKEND_CALLS = [
    ("GetRunStatus", lambda stub, name: stub.GetRunStatus(svc.GetRunStatusRequest(name=name))),
    ("CleanupRun", lambda stub, name: stub.CleanupRun(svc.CleanupRunRequest(name=name))),
    # A server stream: the error surfaces when the stream is read.
    (
        "LoadAnnotations",
        lambda stub, name: list(stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=name))),
    ),
]


@pytest.mark.parametrize("rpc, call", BACKEND_CALLS, ids=[name for name, _ in BACKEND_CALLS])
def test_backend_rpcs_on_an_unknown_run_answer_not_found(stub, rpc, call):
    err = call_error(lambda s: call(s, run_name("k")), stub)
    assert err.code() == grpc.StatusCode.NOT_FOUND, rpc
    assert err.details() == "Dataset has no annotation run key 'k'"


@pytest.mark.parametrize(
    "rpc, call",
    [c for c in BACKEND_CALLS if c[0] != "CleanupRun"],
    ids=[name for name, _ in BACKEND_CALLS if name != "CleanupRun"],
)
def test_backend_rpcs_without_v7_credentials_say_so(stub, rpc, call):
    run = create_run(stub, header(anno_key="no_key_run")).run
    err = call_error(lambda s: call(s, run.name), stub)
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, rpc
    assert "no V7 API key" in err.details()


def test_health_check_reports_serving_for_the_service_name(server):
    health = health_pb2_grpc.HealthStub(server.channel)
    request = health_pb2.HealthCheckRequest(service="labelport.v1.AnnotationService")
    response = health.Check(request, timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


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
