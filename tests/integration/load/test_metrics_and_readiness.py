"""Operations (#9): Prometheus /metrics after an upload and a load, request ids in the JSON
logs, and readiness that follows the store, not V7: a V7 outage in the middle of an upload
shows in `dependency_up`, the replica stays SERVING and answers the RPCs that do not need V7,
and the upload waits and then finishes without duplicates."""

from __future__ import annotations

import json
import re

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from server.conftest import ServerProcess
from server.metrics_scrape import metrics_url, scrape, value
from server.waiting import wait_until
from upload.support import (
    PARENT, DeterministicIds, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, state_name, wait_run,
)

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
        return [json.loads(line) for line in server.log().splitlines()
                if line.startswith("{")]

    wait_for(lambda: any(e.get("request_id") == "ops-test-load-2" and e["level"] == "INFO"
                         for e in json_lines()), "the load's access line", server, timeout=10)
    lines = json_lines()
    access = [e for e in lines if e.get("request_id") == "ops-test-req-1"]
    assert access and access[0]["message"].startswith(f"rpc {method}GetRun OK"), access
    of_load = [e for e in lines if e.get("request_id") == "ops-test-load-2"]
    assert [e["level"] for e in of_load] == ["WARNING", "INFO"], of_load
    assert "Ignoring string `dest_field=elsewhere`" in of_load[0]["message"]
    assert of_load[1]["message"].startswith(f"rpc {method}LoadAnnotations OK")
    assert sim.api_key not in server.log()


def test_retries_and_limiter_waits_are_counted(sim_factory, serve, tmp_path):
    sim = sim_factory()
    # 240 calls/minute after a burst of 5: an upload of a few samples has to wait.
    server = serve(sim, ["--metrics_listen", "127.0.0.1:0",
                         "--darwin_rate_limit_per_minute", "240", "--darwin_rate_burst", "5"])
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


def wait_for(condition, what: str, server, timeout: float = 30):
    """Polls `condition()` until it is truthy; fails after `timeout` naming `what`."""
    return wait_until(condition, timeout, what, details=server.stderr)


def test_a_v7_outage_mid_upload_is_waited_out_and_the_replica_stays_ready(
        sim_factory, serve, tmp_path):
    sim = sim_factory()
    # 20 V7 calls a second after a burst of 5: the upload of 60 samples takes a few seconds.
    server = serve(sim, ["--metrics_listen", "127.0.0.1:0", "--readiness_interval_seconds", "1",
                         "--darwin_rate_limit_per_minute", "1200", "--darwin_rate_burst", "5"])
    url = metrics_url(server)

    def v7_up() -> float:
        return value(scrape(url), "labelport_dependency_up", dependency="v7")

    serving = health_pb2.HealthCheckResponse.SERVING
    for service in ("", SERVICE, "liveness"):
        assert health_status(server, service) == serving, service
    wait_for(lambda: v7_up() == 1, "dependency_up{v7} = 1", server)

    count, slug = 60, "outage"
    samples, label_ids = [], {}
    for k in range(count):
        det = detection("car", [0.25, 0.25, 0.5, 0.5])
        label_ids[f"s{k:03d}"] = det.id
        ref = media(path=make_image(tmp_path / "img" / f"{k}.png", color=(k, 10, 20)))
        samples.append(image_sample(f"s{k:03d}", ref, gt=detections(det)))
    hdr = header("outage", [field_schema("gt", "detections", ["car"])], slug=slug,
                 existing=[("gt", "Detections")])
    run = create_run(server.stub, hdr, samples)

    def get_run():
        return server.stub.GetRun(svc.GetRunRequest(name=run.name), timeout=10).run

    # V7 goes away mid-upload: every V7 request (API and signed uploads) has its connection
    # dropped, until the faults are cleared. The sim keeps its state.
    wait_for(lambda: get_run().progress.samples_uploaded >= 3, "three uploads", server)
    sim.fault(path="*", count=10**9, action="drop")
    wait_for(lambda: v7_up() == 0, "dependency_up{v7} = 0", server)
    wait_for(lambda: "the upload waits and resumes when V7 answers" in server.log(),
             "the upload pausing", server)

    # The replica stays ready, and what does not need V7 answers.
    for service in ("", SERVICE, "liveness"):
        assert health_status(server, service) == serving, service
    during = get_run()
    assert during.state == run_pb.RUN_STATE_UPLOADING, during
    assert during.progress.samples_failed == 0, list(during.sample_errors)
    assert during.progress.samples_completed < count
    listed = server.stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10)
    assert [r.name for r in listed.runs] == [run.name]
    watch = server.stub.WatchRun(svc.WatchRunRequest(name=run.name), timeout=10)
    first = next(iter(watch))
    assert first.run.name == run.name and first.run.state == run_pb.RUN_STATE_UPLOADING
    watch.cancel()

    sim.control("DELETE", "/_sim/faults")  # V7 is back
    final = wait_run(server.stub, run.name, timeout=180)
    assert state_name(final) == "RUN_STATE_ANNOTATING", (final.failure_reason, server.stderr())
    assert final.progress.samples_failed == 0, list(final.sample_errors)
    assert final.progress.samples_completed == count
    wait_for(lambda: v7_up() == 1, "dependency_up{v7} back to 1", server)
    assert "V7 answers again" in server.log()

    # Nothing twice in V7: one item per sample, one annotation per label, with its own id.
    items = items_by_sample(sim, slug)
    assert sorted(items) == sorted(label_ids)
    ids = DeterministicIds(final.uid)
    for sample_id, item in items.items():
        annotations = sim.annotations(item["id"])
        assert [a["id"] for a in annotations] == [ids.of(label_ids[sample_id])], sample_id
    assert health_status(server, SERVICE) == serving


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
