"""Server reflection v1 and v1alpha: the services are listed, messages are described with their
proto comments, and the health service can be called from what reflection returns alone.

Python's grpcio-reflection ships v1alpha stubs only; v1 is the same protocol under another
package, so its method is called with the same messages. grpcurl (installed by .ci/setup) asks
v1 first.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

SERVICES = {
    "labelport.v1.AnnotationService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}
METHODS = {
    "v1": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "v1alpha": "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}


def ask(channel, version, requests):
    call = channel.stream_stream(
        METHODS[version],
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return list(call(iter(requests), timeout=10))


def leading_comment(file: descriptor_pb2.FileDescriptorProto, message: str, field: str) -> str:
    (m_index,) = [i for i, m in enumerate(file.message_type) if m.name == message]
    (f_index,) = [i for i, f in enumerate(file.message_type[m_index].field) if f.name == field]
    for location in file.source_code_info.location:
        if list(location.path) == [4, m_index, 2, f_index]:
            return location.leading_comments
    return ""


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_lists_the_services(server, version):
    (listed,) = ask(server.channel, version, [reflection_pb2.ServerReflectionRequest(list_services="")])
    assert {s.name for s in listed.list_services_response.service} == SERVICES


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_describes_messages_with_their_comments(server, version):
    described, unknown, health = ask(server.channel, version, [
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="labelport.v1.CreateRunHeader"),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="labelport.v1.NoSuchMessage"),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.health.v1.Health"),
    ])
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in described.file_descriptor_response.file_descriptor_proto]
    assert files[0].name == "labelport/v1/annotation_service.proto"
    assert "Required: the run key" in leading_comment(files[0], "CreateRunHeader", "anno_key")
    assert {"google/api/field_behavior.proto", "labelport/v1/sample.proto"} <= {f.name for f in files}
    # An unknown symbol is an error response; the stream goes on.
    assert unknown.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert "labelport.v1.NoSuchMessage" in unknown.error_response.error_message
    health_file = descriptor_pb2.FileDescriptorProto.FromString(
        health.file_descriptor_response.file_descriptor_proto[0])
    assert health_file.name == "grpc/health/v1/health.proto"


def test_health_check_is_callable_through_reflection(server):
    # Only reflection's answers: no generated health stubs.
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(server.channel))
    method = pool.FindServiceByName("grpc.health.v1.Health").FindMethodByName("Check")
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    check = server.channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    reply = check(request_class(service="labelport.v1.AnnotationService"), timeout=10)
    serving = method.output_type.enum_types_by_name["ServingStatus"].values_by_name["SERVING"]
    assert reply.status == serving.number


def grpcurl() -> str:
    found = shutil.which("grpcurl")
    if found is None:
        pytest.fail("grpcurl is missing: run .ci/setup (it installs grpcurl into the Go bin dir)")
    return found


def run_grpcurl(*args: str) -> str:
    done = subprocess.run([grpcurl(), "-plaintext", *args], capture_output=True, text=True,
                          timeout=30, env={k: v for k, v in os.environ.items()
                                           if not k.startswith("GRPC_")})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grpcurl_lists_describes_and_checks_health(server):
    assert set(run_grpcurl(server.target, "list").split()) == SERVICES
    described = run_grpcurl(server.target, "describe", "labelport.v1.CreateRunHeader")
    assert "Required: the run key" in described
    assert "(.google.api.field_behavior) = REQUIRED" in described
    method = run_grpcurl(server.target, "describe", "labelport.v1.AnnotationService.GetRun")
    assert 'get: "/v1/{name=datasets/*/runs/*}"' in method
    reply = run_grpcurl("-d", '{"service": "liveness"}', server.target, "grpc.health.v1.Health/Check")
    assert '"status": "SERVING"' in reply


def test_grpcurl_describes_error_reasons(server):
    described = run_grpcurl(server.target, "describe", "labelport.v1.ErrorReason")
    assert "ERROR_REASON_RUN_NOT_FOUND = 200;" in described
    # The enum's comments come along too.
    assert "NOT_FOUND: the run does not exist" in described
