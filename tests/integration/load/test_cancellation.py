"""Deadlines and cancellation reach the V7 work (issue 15, item 3), and slow LoadAnnotations
readers never block an I/O thread (item 1).

* A LoadAnnotations the client cancels, or whose deadline passes, stops polling V7 for its
  export and deletes the export (darwin-sim holds none afterwards).
* GetRunStatus and CleanupRun with a short deadline against a slow darwin-sim answer
  DEADLINE_EXCEEDED promptly, and the server makes no further V7 calls for them.
* With one I/O thread, two LoadAnnotations readers that never read do not stop GetRunStatus (a
  V7 call on the I/O thread) or an upload."""

from __future__ import annotations

import re
import time

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc
from server.waiting import wait_until
from upload.support import (
    create_run, detection, detections, field_schema, header, image_sample, make_image, media,
    state_name, wait_run,
)

from .support import crowded_run, standard_run


def dataset_exports(sim, slug: str) -> list:
    return sim.dataset(slug).get("exports", [])


def export_requests(sim) -> list:
    return [r for r in sim.api_requests() if "/exports" in r["path"]]


def finished_rpc(server, method: str, after: int = 0, timeout: float = 20) -> str:
    """Waits for the server's log line of a finished `method` call, logged after the first
    `after` characters of its log; returns its status code."""
    pattern = re.compile(rf"rpc \S*/{method} ([A-Z_]+) ")

    def found():
        m = pattern.search(server.log()[after:])
        return m.group(1) if m else None

    return wait_until(found, timeout, f"the end of {method} in the server's log")


@pytest.fixture
def slow_export_server(sim_factory, upload_server):
    """darwin-sim with latency whose exports stay pending, and a server that would wait for
    them for ten minutes: only a cancellation can end a load early."""
    sim = sim_factory(["--latency_ms", "30"])
    sim.configure(export_delay_ms=600_000)
    server = upload_server(sim, args=["--export_timeout_seconds", "600"])
    return sim, server


@pytest.mark.parametrize("how", ["cancel", "deadline"])
def test_stopped_load_stops_polling_and_deletes_its_export(slow_export_server, tmp_path, how):
    sim, server = slow_export_server
    r = standard_run(sim, server.stub, tmp_path)
    sim.control("DELETE", "/_sim/requests")
    call = server.stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=r.name),
                                       timeout=3 if how == "deadline" else 60)
    first = next(call)
    assert first.WhichOneof("event") == "progress"  # the export was requested
    # The load polls V7 for its (pending) export.
    wait_until(lambda: len([q for q in export_requests(sim) if q["method"] == "GET"]) >= 2, 20,
               "two export polls")
    assert len(dataset_exports(sim, r.slug)) == 1
    if how == "cancel":
        call.cancel()
    with pytest.raises(grpc.RpcError) as err:
        for _ in call:
            pass
    assert err.value.code() == (grpc.StatusCode.CANCELLED if how == "cancel"
                                else grpc.StatusCode.DEADLINE_EXCEEDED)
    # The export the load created is deleted (not left for V7 to expire)...
    wait_until(lambda: not dataset_exports(sim, r.slug), 10, "the export's deletion")
    # ...and once the load has ended on the server, its DELETE was its last V7 call: no poll
    # came after it.
    server.wait_for_stderr("load cancelled; V7 export", timeout=10)
    calls = export_requests(sim)
    assert calls[-1]["method"] == "DELETE", calls[-3:]
    assert finished_rpc(server, "LoadAnnotations") in ("CANCELLED", "DEADLINE_EXCEEDED")


def test_a_hanging_export_deletion_is_given_up_after_the_cleanup_timeout(sim_factory,
                                                                        upload_server, tmp_path):
    """The clean-up of a cancelled load races its DELETE of the export against
    --export_cleanup_timeout_seconds: when V7 does not answer, the load still ends promptly,
    the export is left to V7 to expire, and the server stays up for the next call."""
    sim = sim_factory()
    sim.configure(export_delay_ms=600_000)
    server = upload_server(sim, args=["--export_timeout_seconds", "600",
                                      "--export_cleanup_timeout_seconds", "1"])
    r = standard_run(sim, server.stub, tmp_path)
    sim.fault(method="DELETE", path="*/exports/*", latency_ms=30_000)
    call = server.stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=r.name), timeout=60)
    assert next(call).WhichOneof("event") == "progress"
    wait_until(lambda: len([q for q in export_requests(sim) if q["method"] == "GET"]) >= 1, 20,
               "an export poll")
    call.cancel()
    started = time.monotonic()
    server.wait_for_stderr("left to V7 to expire", timeout=15)
    assert time.monotonic() - started < 10  # the 30 s DELETE was not waited out
    assert "deleting V7 export" in server.log() and "took over 1s" in server.log()
    assert finished_rpc(server, "LoadAnnotations") == "CANCELLED"
    # The server is still serving.
    assert server.stub.GetRun(svc.GetRunRequest(name=r.name), timeout=10).run.name == r.name


@pytest.fixture
def slow_sim_server(sim_factory, upload_server):
    sim = sim_factory()
    server = upload_server(sim)
    return sim, server


def call_past_the_deadline(sim, server, method: str, request) -> None:
    """With every V7 call taking 1.5 s, calls `method` with a 0.5 s deadline: the caller gets
    DEADLINE_EXCEEDED within 1.4 s and the server ends the call as DEADLINE_EXCEEDED. The sim's
    request log is cleared before the call; its latency is 0 again after."""
    sim.configure(latency_ms=1500)
    sim.control("DELETE", "/_sim/requests")
    logged = len(server.log())
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        getattr(server.stub, method)(request, timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.4
    assert finished_rpc(server, method, after=logged) == "DEADLINE_EXCEEDED"
    sim.configure(latency_ms=0)


def test_get_run_status_honours_the_deadline(slow_sim_server, tmp_path):
    sim, server = slow_sim_server
    # 80 items: V7's item listing takes about 35 ids per request, so GetRunStatus needs three
    # listings one after the other.
    r = crowded_run(sim, server.stub, tmp_path, samples=80, boxes=1)
    assert server.stub.GetRunStatus(svc.GetRunStatusRequest(name=r.name),
                                    timeout=20).total_items == 80
    # The server gave up when the deadline passed: once the call has ended on the server (a
    # second before the first listing's answer would have come), no second listing is sent.
    call_past_the_deadline(sim, server, "GetRunStatus", svc.GetRunStatusRequest(name=r.name))
    listings = [q for q in sim.api_requests() if q["method"] == "GET" and "/items" in q["path"]]
    assert len(listings) <= 1, listings


def test_cleanup_run_honours_the_deadline(slow_sim_server, tmp_path):
    sim, server = slow_sim_server
    r = standard_run(sim, server.stub, tmp_path)
    call_past_the_deadline(sim, server, "CleanupRun", svc.CleanupRunRequest(name=r.name))
    # The clean-up stopped at its first V7 call (listing workflows): the dataset was not
    # archived and the run is not CLEANED_UP; a second call finishes the job.
    calls = [q for q in sim.api_requests() if "token_info" not in q["path"]]  # readiness
    assert len(calls) <= 1, calls
    assert not sim.dataset(r.slug).get("archived"), sim.dataset(r.slug)
    run = server.stub.GetRun(svc.GetRunRequest(name=r.name), timeout=10).run
    assert state_name(run) == "RUN_STATE_ANNOTATING"
    done = server.stub.CleanupRun(svc.CleanupRunRequest(name=r.name), timeout=30)
    assert done.dataset_deleted and state_name(done.run) == "RUN_STATE_CLEANED_UP"


def test_stalled_readers_leave_the_io_thread_free(sim_factory, upload_server, tmp_path):
    """One I/O thread, two LoadAnnotations streams that are never read: their loads wait for
    queue space without holding the thread, so V7 calls of other RPCs and uploads go on."""
    sim = sim_factory(["--latency_ms", "5"])
    server = upload_server(sim, args=["--io_threads", "1"])
    # About 9 MB of change messages per load: more than gRPC buffers for a client that does not
    # read (about 1 MB per load was not enough to stall the former, blocking producer).
    r = crowded_run(sim, server.stub, tmp_path / "crowded", samples=300, boxes=200)
    sim.control("DELETE", "/_sim/requests")
    stalled = [server.stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=r.name), timeout=120)
               for _ in range(2)]
    try:
        # Both loads have downloaded (and deleted) their exports: they are streaming, and with
        # nobody reading, their queues fill. (With the former producer, which blocked its
        # thread on a full queue, the first load stopped the only I/O thread here already.)
        wait_until(lambda: len([q for q in export_requests(sim) if q["method"] == "DELETE"]) >= 2,
                   30, "both loads' downloads")
        # A V7 call on the I/O thread: answers well within its deadline.
        status = server.stub.GetRunStatus(svc.GetRunStatusRequest(name=r.name), timeout=15)
        assert status.total_items == 300
        # An upload runs on the I/O thread too.
        image = make_image(tmp_path / "upload" / "one.png", color=(1, 2, 3))
        hdr = header("during_stall", [field_schema("gt", "detections", ["car"])],
                     slug="during-stall", existing=[("gt", "Detections")])
        run = create_run(server.stub, hdr, [image_sample(
            "u0", media(path=image), gt=detections(detection("car", [0.1, 0.1, 0.2, 0.2])))])
        assert state_name(wait_run(server.stub, run.name, timeout=30)) == "RUN_STATE_ANNOTATING"
        # The stalled streams are still open: what they queued is there to read.
        first = next(stalled[0])
        assert first.WhichOneof("event") == "progress"
    finally:
        for call in stalled:
            call.cancel()
