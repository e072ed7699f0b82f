"""--health_listen: a plaintext port serving only grpc.health.v1.Health, so that probes without
TLS (Kubernetes' native gRPC probes) keep working while the main port requires TLS."""

from __future__ import annotations

import re
import socket
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc
from server.conftest import hermetic_env, wait_for_binary

from .conftest import client_credentials, tls_flags
from .support import new_token

SERVING = health_pb2.HealthCheckResponse.SERVING


def health_port_of(server) -> int:
    found = re.search(r"health \(grpc\.health\.v1 only, plaintext\) on 127\.0\.0\.1:(\d+)",
                      server.log())
    assert found, server.stderr()
    return int(found.group(1))


def check(stub, service: str) -> int:
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_health_port_answers_in_plaintext_beside_a_tls_port(auth_server, tenants, pki):
    tenants.add("acme", tokens=[new_token()])
    server = auth_server(tenants, args=[*tls_flags(pki), "--health_listen", "127.0.0.1:0"],
                         credentials=client_credentials(pki))
    plain = grpc.insecure_channel(f"127.0.0.1:{health_port_of(server)}")
    health = health_pb2_grpc.HealthStub(plain)
    # The statuses of the main port (which needs TLS), without TLS.
    tls_health = health_pb2_grpc.HealthStub(server.channel)
    for name in ("", "liveness", "labelport.v1.AnnotationService"):
        assert check(health, name) == SERVING, name
        assert check(tls_health, name) == SERVING, name
    with pytest.raises(grpc.RpcError) as info:
        check(health, "no.such.Service")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    # Nothing else is served there: no AnnotationService, no reflection.
    with pytest.raises(grpc.RpcError) as info:
        annotation_service_pb2_grpc.AnnotationServiceStub(plain).ListRuns(
            svc.ListRunsRequest(parent="datasets/quickstart"), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as info:
        list(reflection_pb2_grpc.ServerReflectionStub(plain).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    # The main port still refuses plaintext.
    with pytest.raises(grpc.RpcError) as info:
        health_pb2_grpc.HealthStub(grpc.insecure_channel(server.target)).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    plain.close()


@pytest.mark.parametrize("value,message", [
    ("127.0.0.1", "--health_listen must be HOST:PORT"),
    ("SAME", "--health_listen must differ from --listen"),
])
def test_bad_health_listen_is_refused_at_start(tmp_path, value, message):
    listen = "127.0.0.1:50999"
    done = subprocess.run(
        [str(wait_for_binary()), "--listen", listen, "--data_dir", str(tmp_path),
         "--health_listen", listen if value == "SAME" else value],
        capture_output=True, text=True, timeout=30, env=hermetic_env())
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def test_a_health_port_in_use_is_an_error_exit_not_an_abort(tmp_path):
    # The health port is bound after the I/O threads start: the error return must stop them
    # (destroying running threads would abort the process).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(wait_for_binary()), "--listen", "127.0.0.1:0", "--data_dir", str(tmp_path),
             "--health_listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=30, env=hermetic_env())
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert f"--health_listen: cannot listen on '127.0.0.1:{port}'" in done.stderr, done.stderr
