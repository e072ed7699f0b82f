"""Operations (#9): Prometheus /metrics after an upload and a load, request ids in the JSON
logs, and readiness that follows V7 (NOT_SERVING while darwin-sim is down, SERVING again when it
returns) while liveness does not."""

from __future__ import annotations

import json
import re
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from labelport.v1 import annotation_service_pb2 as svc
from server.conftest import ServerProcess
from server.metrics_scrape import metrics_url, scrape, value

from .conftest import start_server
from .support import load, standard_run

SERVICE = "labelport.v1.AnnotationService"


@pytest.fixture
def serve(tmp_path):
    """`serve(sim, args)`: a server on `sim`; each must exit 0 on SIGTERM at teardown."""
    started = []

    def factory(sim, args):
        server = start_server(sim, tmp_path / f"data{len(started)}", args)
        started.append(server)
        return server

    yield factory
    for server in started:
        assert server.stop() == 0, server.stderr()


def health_status(server, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(server.channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def wait_health(server, service: str, want: int, timeout: float = 20) -> float:
    """Seconds until `service` reports `want`; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if health_status(server, service) == want:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{service!r} did not become {want} within {timeout}s; "
                         f"{server.stderr()}")


def test_metrics_count_an_upload_and_a_load(sim_factory, serve, tmp_path):
    sim = sim_factory()
    server = serve(sim, ["--metrics_listen", "127.0.0.1:0", "--log_json"])
    url = metrics_url(server)
    r = standard_run(sim, server.stub, tmp_path, samples=2)
    ld = load(server.stub, r.name)
    server.stub.GetRun(svc.GetRunRequest(name=r.name), timeout=10,
                       metadata=[("x-request-id", "ops-test-req-1")])
    m = scrape(url)

    method = f"/{SERVICE}/"
    assert value(m, "labelport_rpc_handled_total", method=method + "CreateRun", code="OK") == 1
    assert value(m, "labelport_rpc_handled_total", method=method + "LoadAnnotations",
                 code="OK") == 1
    assert value(m, "labelport_rpc_handled_total", method=method + "GetRun", code="OK") >= 1
    assert value(m, "labelport_rpc_duration_seconds_count",
                 method=method + "LoadAnnotations", code="OK") == 1

    # V7 calls by endpoint template: no team, dataset slug or id spelled out.
    v7 = {(lbl["endpoint"], lbl["status"]): v for n, lbl, v in m
          if n == "labelport_v7_requests_total"}
    endpoints = {e for e, _ in v7}
    assert ("GET /api/users/token_info", "200") in v7
    assert "POST /api/v2/teams/{team}/items/register_upload" in endpoints, endpoints
    assert any(e.startswith("POST /api/v2/teams/{team}/datasets/{dataset}/exports")
               for e in endpoints), endpoints
    for e in endpoints:
        assert sim.team not in e and r.slug not in e, e
    assert value(m, "labelport_v7_request_duration_seconds_count") == sum(v7.values())

    assert value(m, "labelport_samples_uploaded_total", outcome="completed") == 2
    assert value(m, "labelport_samples_uploaded_total", outcome="failed") == 0
    for change in ("added", "edited", "deleted", "unchanged"):
        expected = sum(getattr(f, change) for f in ld.summary.fields)
        assert value(m, "labelport_labels_loaded_total", change=change) == expected, change
    assert value(m, "labelport_labels_loaded_total") > 0
    assert value(m, "labelport_runs", state="ANNOTATING") == 1
    assert value(m, "labelport_rate_limit_per_minute") == 60000
    assert value(m, "labelport_dependency_up", dependency="v7") == 1
    assert value(m, "labelport_dependency_up", dependency="store") == 1

    # A load whose use case logs a warning (on the io threads, across co_awaits).
    for _ in server.stub.LoadAnnotations(
            svc.LoadAnnotationsRequest(name=r.name, dest_field="elsewhere"), timeout=60,
            metadata=[("x-request-id", "ops-test-load-2")]):
        pass

    # The access lines carry the client's request ids, as JSON, and so does the warning. Info
    # lines reach stderr in batches, a moment after the call: wait for the load's access line.
    def json_lines() -> list:
        return [json.loads(line) for line in server.stderr().splitlines()
                if line.startswith("{")]

    deadline = time.monotonic() + 10
    while (not any(e.get("request_id") == "ops-test-load-2" and e["level"] == "INFO"
                   for e in json_lines()) and time.monotonic() < deadline):
        time.sleep(0.05)
    lines = json_lines()
    access = [e for e in lines if e.get("request_id") == "ops-test-req-1"]
    assert access and access[0]["message"].startswith(f"rpc {method}GetRun OK"), access
    of_load = [e for e in lines if e.get("request_id") == "ops-test-load-2"]
    assert [e["level"] for e in of_load] == ["WARNING", "INFO"], of_load
    assert "Ignoring string `dest_field=elsewhere`" in of_load[0]["message"]
    assert of_load[1]["message"].startswith(f"rpc {method}LoadAnnotations OK")
    assert sim.api_key not in server.stderr()


def test_retries_and_limiter_waits_are_counted(sim_factory, serve, tmp_path):
    sim = sim_factory()
    # 240 calls/minute after a burst of 20: an upload of a few samples has to wait.
    server = serve(sim, ["--metrics_listen", "127.0.0.1:0",
                         "--darwin_rate_limit_per_minute", "240"])
    url = metrics_url(server)
    sim.fault(method="POST", path="*/items/register_upload", count=1, action="status",
              status=503)
    standard_run(sim, server.stub, tmp_path, samples=3)
    m = scrape(url)
    assert value(m, "labelport_v7_retries_total",
                 endpoint="POST /api/v2/teams/{team}/items/register_upload", reason="503") == 1
    assert value(m, "labelport_v7_requests_total",
                 endpoint="POST /api/v2/teams/{team}/items/register_upload", status="503") == 1
    assert value(m, "labelport_rate_limit_per_minute") == 240
    assert value(m, "labelport_rate_limiter_wait_seconds_count") > 0


def test_readiness_follows_v7_and_liveness_does_not(sim_factory, serve):
    sim = sim_factory()
    server = serve(sim, ["--metrics_listen", "127.0.0.1:0", "--readiness_interval_seconds", "1"])
    serving, not_serving = (health_pb2.HealthCheckResponse.SERVING,
                            health_pb2.HealthCheckResponse.NOT_SERVING)
    for service in ("", SERVICE, "liveness"):
        assert health_status(server, service) == serving, service

    sim.stop()
    wait_health(server, SERVICE, not_serving)
    assert health_status(server, "") == not_serving
    assert health_status(server, "liveness") == serving
    assert value(scrape(metrics_url(server)), "labelport_dependency_up", dependency="v7") == 0
    # Reads from the store still work on a replica that is not ready.
    runs = server.stub.ListRuns(svc.ListRunsRequest(parent="datasets/any"), timeout=10)
    assert list(runs.runs) == []

    sim.restart()  # same port and API key
    wait_health(server, SERVICE, serving)
    assert health_status(server, "") == serving
    assert value(scrape(metrics_url(server)), "labelport_dependency_up", dependency="v7") == 1


def test_without_a_v7_key_readiness_follows_the_store_only(tmp_path):
    server = ServerProcess(tmp_path / "data", ["--readiness_interval_seconds", "1",
                                               "--metrics_listen", "127.0.0.1:0"])
    try:
        assert health_status(server, SERVICE) == health_pb2.HealthCheckResponse.SERVING
        # Methods the server does not serve share one label value.
        for method in (f"/{SERVICE}/NoSuchMethod", "/made.Up/Service"):
            try:
                server.channel.unary_unary(method)(b"", timeout=10)
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNIMPLEMENTED
        m = scrape(metrics_url(server))
        assert value(m, "labelport_rpc_handled_total", method="unknown", code="UNIMPLEMENTED") == 2
        assert not [lbl for n, lbl, _ in m if "NoSuchMethod" in lbl.get("method", "")
                    or "made.Up" in lbl.get("method", "")]
        try:
            server.stub.GetRun(svc.GetRunRequest(name="datasets/d/runs/missing"), timeout=10,
                               metadata=[("x-request-id", "bad id with spaces")])
        except grpc.RpcError as e:
            # An unusable client id is replaced by a generated one.
            generated = dict(e.initial_metadata())["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", generated), generated
        else:
            raise AssertionError("GetRun of a missing run succeeded")
    finally:
        assert server.stop() == 0, server.stderr()
