"""A PostgreSQL outage in the middle of an upload, with three replicas on it (issue #15):
store errors pause the upload (never failing the run), a lease holder that cannot renew stops
writing before its lease can expire (fencing), and after the store is back the run completes
with every medium uploaded to V7 exactly once.

The outage is a real one: the test's own PostgreSQL cluster is halted (fast shutdown, clients
disconnected) for OUTAGE_S seconds and started again on the same port. Before the fix, the
short outage (lease TTL 30 s) left the run FAILED ("SaveSampleProgress: cannot connect to
PostgreSQL"), and with a lease TTL shorter than the outage the old holder went on uploading
beside the replica that claimed the run after the restart (media PUT twice).
"""

from __future__ import annotations

import collections
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from server.waiting import wait_until
from upload.support import (
    create_run, detection, detections, field_schema, header, image_sample, items_by_sample,
    make_image, media, state_name, wait_run,
)

from .conftest import psql, with_database

CLUSTER = Path(__file__).resolve().parents[2] / "support" / "postgres_cluster"
REPLICAS = 3
SAMPLES = 150
OUTAGE_S = 10


@pytest.fixture
def own_cluster():
    """A private PostgreSQL cluster (url of a fresh database, cluster directory), so that
    halting it disturbs no other test."""
    out = subprocess.run(["bash", str(CLUSTER), "start"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    exports = dict(re.findall(r"export (\w+)=(\S+)", out.stdout))
    url = exports["LABELPORT_TEST_POSTGRES_URL"].strip("'")
    directory = exports["LABELPORT_TEST_POSTGRES_DIR"].strip("'")
    try:
        name = f"lp_outage_{os.getpid()}_{secrets.token_hex(4)}"
        psql(url, f"CREATE DATABASE {name}")
        yield with_database(url, name), directory
    finally:
        subprocess.run(["bash", str(CLUSTER), "stop", directory], capture_output=True,
                       timeout=120)


def cluster(command: str, directory: str) -> None:
    out = subprocess.run(["bash", str(CLUSTER), command, directory], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def signed_requests(sim, method: str, prefix: str) -> collections.Counter:
    """Answered requests to the sim's signed URLs, counted per path."""
    return collections.Counter(r["path"] for r in sim.requests()
                               if r["method"] == method and r["path"].startswith(prefix)
                               and r["status"] == 200)


def confirms(sim) -> collections.Counter:
    return collections.Counter(r["path"] for r in sim.requests()
                               if r["status"] == 200 and r["path"].endswith("/confirm"))


@pytest.mark.parametrize("lease_ttl_s", [6, 30], ids=["outage-outlasts-lease", "short-outage"])
def test_a_store_outage_mid_upload_pauses_the_run_and_uploads_each_medium_once(
        replica, sim, own_cluster, tmp_path, lease_ttl_s):
    db_url, cluster_dir = own_cluster
    # Slow enough that the upload would go on past the outage (about 30 s in all).
    sim.configure(latency_ms=250)
    args = ["--lease_ttl_seconds", str(lease_ttl_s), "--upload_concurrency", "4"]
    servers = [replica(sim, db_url, f"replica-{i}", args) for i in range(REPLICAS)]
    image = make_image(tmp_path / "img.png")
    samples = [image_sample(f"s{k:03d}", media(path=image),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5],
                                                    id=f"{k:024x}")))
               for k in range(SAMPLES)]
    hdr = header("outage", [field_schema("gt", "detections", ["car"])], slug="outage",
                 existing=[("gt", "Detections")])
    run = create_run(servers[0].stub, hdr, samples)

    wait_until(lambda: sum(confirms(sim).values()) >= SAMPLES // 4, 60,
               "a quarter of the media confirmed")
    cluster("halt", cluster_dir)
    halted_at = time.monotonic()
    confirmed_at_halt = sum(confirms(sim).values())
    time.sleep(OUTAGE_S)  # the outage itself, not a synchronisation
    cluster("restart", cluster_dir)
    outage = time.monotonic() - halted_at

    final = wait_run(servers[1].stub, run.name, timeout=180)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    p = final.progress
    assert (p.samples_total, p.samples_completed, p.samples_failed) == (SAMPLES, SAMPLES, 0), p
    assert p.labels_imported == SAMPLES, p
    assert list(final.sample_errors) == []

    # Exactly once in V7: one item per sample, each medium PUT and confirmed once.
    items = items_by_sample(sim, "outage")  # fails on two items for one sample
    assert sorted(items) == [f"s{k:03d}" for k in range(SAMPLES)]
    puts = signed_requests(sim, "PUT", "/_upload/")
    assert len(puts) == SAMPLES and set(puts.values()) == {1}, puts.most_common(5)
    done = confirms(sim)
    assert len(done) == SAMPLES and set(done.values()) == {1}, done.most_common(5)
    # The outage really hit the upload: it was not over when the store went away, and every
    # replica that held the lease then saw the store fail.
    assert confirmed_at_halt < SAMPLES
    logs = "".join(s.log() for s in servers)  # whole logs: stderr() keeps only their tails
    assert "PostgreSQL" in logs, logs[-3000:]
    assert outage >= OUTAGE_S
    if lease_ttl_s * 2 / 3 < OUTAGE_S:  # the case of the parameters, not of the timing
        # The lease holder could not renew for longer than ttl - ttl/3: it stopped writing.
        assert "could not renew the run's lease" in logs, logs[-3000:]

    for item in items.values():
        assert item["annotation_count"] == 1, item
    # No lease is left behind. (A job releases its lease just after it set the run's state.)
    wait_until(lambda: psql(db_url, "SELECT count(*) FROM runs WHERE lease_owner IS NOT NULL")
               == "0", 10, "every lease released")
