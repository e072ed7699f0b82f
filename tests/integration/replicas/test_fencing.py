"""Fencing of V7 writes already in flight (issue #15). A label import hangs in V7 (darwin-sim
holds its answer, a latency fault, far longer than the lease's margin) when

* the lease is taken over (a "thief" owner in the database, as a replica that claimed the run
  would): the replica abandons the import at once, instead of waiting for V7 (and repeating the
  import when the attempt times out) beside the new owner; another replica resumes the run;
* the store goes down (the test's own PostgreSQL cluster is halted), so the lease cannot be
  renewed: the replica abandons the import at the fence's deadline, before the lease could
  expire, and finishes the run once the store is back.

Either way the run is not failed, nothing reaches V7 from the fenced replica after the held
import, and nothing is duplicated in V7. Before the fix the replica went on waiting for the held
answer, and after its request timeout (60 s) sent the import again.
"""

from __future__ import annotations

import datetime
import re
import time

from labelport.v1 import annotation_service_pb2 as svc
from upload.support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)

from .conftest import psql
from .test_store_outage import cluster, own_cluster  # noqa: F401 (a fixture)

LEASE_TTL_S = 6
# Held far beyond the lease's margin (ttl/3) and the client's request timeout (60 s).
HELD_MS = 90_000
IMPORT_PATH = "/api/v2/teams/*/items/*/import"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {timeout}s"
        time.sleep(0.05)


def imports(sim) -> list:
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"].endswith("/import")]


def start_held_import(sim, server, tmp_path):
    """Creates a one-sample run whose label import V7 holds; returns (run, held request)."""
    sim.fault(method="POST", path=IMPORT_PATH, latency_ms=HELD_MS, count=1)
    image = make_image(tmp_path / "img.png")
    samples = [image_sample("s0", media(path=image),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5],
                                                    id=f"{7:024x}")))]
    hdr = header("fenced", [field_schema("gt", "detections", ["car"])], slug="fenced",
                 existing=[("gt", "Detections")])
    run = create_run(server.stub, hdr, samples)
    # The import reached V7 (the sim stored it) and its answer is held.
    held = wait_for(lambda: [r for r in imports(sim) if r["fault"] == "latency"], 60,
                    "the import was not sent")[0]
    return run, held


def writes_after(sim, seq: int) -> list:
    return [r for r in sim.requests()
            if r["seq"] > seq and r["method"] in WRITES and not r["path"].startswith("/_sim")]


def assert_completed_once(sim, final) -> None:
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    p = final.progress
    assert (p.samples_total, p.samples_completed, p.samples_failed) == (1, 1, 0), p
    items = items_by_sample(sim, "fenced")  # fails on two items for one sample
    assert sorted(items) == ["s0"]
    assert items["s0"]["annotation_count"] == 1, items["s0"]
    puts = [r for r in sim.requests() if r["method"] == "PUT" and r["path"].startswith("/_upload/")
            and r["status"] == 200]
    assert len(puts) == 1, puts


def logged_at(log: str, text: str) -> datetime.datetime:
    """The time of the first log line that contains `text`."""
    for line in log.splitlines():
        if text in line:
            stamp = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?)Z", line)
            assert stamp, line
            return datetime.datetime.fromisoformat(stamp.group(1)).replace(
                tzinfo=datetime.timezone.utc)
    raise AssertionError(f"{text!r} not logged")


def test_an_import_in_flight_is_abandoned_when_the_lease_is_taken_over(
        replica, sim, db_url, tmp_path):
    args = ["--lease_ttl_seconds", str(LEASE_TTL_S)]
    first = replica(sim, db_url, "replica-a", args)
    run, held = start_held_import(sim, first, tmp_path)
    # Another owner takes the lease (as a replica that claimed the run would).
    psql(db_url, "UPDATE runs SET lease_owner = 'thief', "
                 f"lease_expires_at = now() + interval '1 hour' WHERE run_id = '{run.uid}'")
    taken_at = time.monotonic()

    # The replica's heartbeat (every ttl/3) finds the lease lost: the held import is abandoned
    # and the job ends long before V7 would have answered (or the attempt timed out).
    first.wait_for_stderr("left to the worker that took the lease over", timeout=30)
    assert time.monotonic() - taken_at < HELD_MS / 1000 / 3
    log = first.log()
    assert "V7 calls in flight abandoned" in log, log[-3000:]
    assert "lost the run's lease" in log, log[-3000:]
    # Nothing was written to V7 after the held import: it was not repeated.
    assert writes_after(sim, held["seq"]) == []
    # The run was left to the new owner, not failed.
    mid = first.stub.GetRun(svc.GetRunRequest(name=run.name), timeout=10).run
    assert state_name(mid) == "RUN_STATE_UPLOADING", mid.failure_reason
    assert mid.failure_reason == ""

    # Another replica resumes the run once the lease is free: nothing is duplicated in V7.
    assert first.stop() == 0
    second = replica(sim, db_url, "replica-b", args)
    psql(db_url, "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL "
                 f"WHERE run_id = '{run.uid}'")
    assert_completed_once(sim, wait_run(second.stub, run.name, timeout=60))
    assert psql(db_url, "SELECT count(*) FROM runs WHERE lease_owner IS NOT NULL") == "0"


def test_an_import_in_flight_is_abandoned_before_an_unrenewed_lease_can_expire(
        replica, sim, own_cluster, tmp_path):  # noqa: F811 (the fixture)
    db_url, cluster_dir = own_cluster
    server = replica(sim, db_url, "replica-a", ["--lease_ttl_seconds", str(LEASE_TTL_S)])
    run, held = start_held_import(sim, server, tmp_path)

    # The store goes away: the lease can no longer be renewed. The fence closes ttl - ttl/3
    # after the last renewal (one every ttl/3), so the import is abandoned within the ttl of the
    # halt, not when V7 would answer (HELD_MS) or the attempt time out (60 s). (That this is
    # before the lease can expire is measured exactly in run_worker_test.)
    cluster("halt", cluster_dir)
    halted = datetime.datetime.now(datetime.timezone.utc)
    server.wait_for_stderr("V7 calls in flight abandoned", timeout=30)
    log = server.log()
    abandoned = logged_at(log, "V7 calls in flight abandoned")
    assert abandoned < halted + datetime.timedelta(seconds=LEASE_TTL_S), (abandoned, halted)
    assert "could not renew the run's lease" in log, log[-3000:]
    server.wait_for_stderr("upload paused", timeout=30)
    # Nothing reached V7 from the fenced job after the held import.
    assert writes_after(sim, held["seq"]) == []

    # The store is back: the replica claims the run again and completes it, once.
    cluster("restart", cluster_dir)
    assert_completed_once(sim, wait_run(server.stub, run.name, timeout=90))
