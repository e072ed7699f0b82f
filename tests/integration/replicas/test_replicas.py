"""Several labelport-server replicas on one PostgreSQL database (DESIGN §7): runs created on
any replica are uploaded by whichever claims them; a replica killed with kill -9 mid-upload
loses its leases when they expire and the others finish its runs, with every sample uploaded as
exactly one item carrying exactly its annotations."""

from __future__ import annotations

import re
import subprocess
import threading
import time

from server.conftest import hermetic_env, wait_for_binary
from server.waiting import wait_until
from upload.support import (
    DeterministicIds, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, state_name, wait_run,
)

from .conftest import psql

REPLICAS = 3
RUNS = 6
SAMPLES = 60
LEASE_TTL_S = 5
REPLICA_ARGS = ["--lease_ttl_seconds", str(LEASE_TTL_S), "--upload_concurrency", "4",
                "--max_concurrent_runs", "2"]


def start_replicas(replica, sim, db_url, count=REPLICAS):
    """Starts the replicas at the same time: they race to migrate the fresh database."""
    servers = [None] * count
    errors = []

    def start(i):
        try:
            servers[i] = replica(sim, db_url, f"replica-{i}", REPLICA_ARGS)
        except BaseException as e:  # pytest.fail raises an exception outside Exception
            errors.append(e)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return servers


def samples_of(run: int, image) -> list:
    return [image_sample(f"r{run}s{k:03d}", media(path=image),
                         gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5],
                                                 id=f"{run:04d}{k:020x}")))
            for k in range(SAMPLES)]


def confirms(sim) -> int:
    return sum(1 for r in sim.requests()
               if r["status"] == 200 and r["path"].endswith("/confirm"))


def uploads_started(server) -> set:
    """Run uids whose upload this replica started (from its log)."""
    return set(re.findall(r"\(([0-9a-f]{32})\): upload started", server.log()))


def test_a_replica_killed_mid_upload_is_taken_over_and_every_run_completes_once(
        replica, sim, db_url, tmp_path):
    sim.configure(latency_ms=15)  # uploads last long enough to be interrupted
    servers = start_replicas(replica, sim, db_url)
    # Each migration was applied once, whoever came first.
    assert psql(db_url, "SELECT count(*) > 0 AND count(*) = count(DISTINCT version) AND "
                        "count(*) = max(version) FROM schema_migrations") == "t"

    image = make_image(tmp_path / "img.png")
    runs = []
    for i in range(RUNS):
        server = servers[i % REPLICAS]  # spread over the replicas
        hdr = header(f"run{i}", [field_schema("gt", "detections", ["car"])], slug=f"rep-{i}",
                     existing=[("gt", "Detections")])
        runs.append(create_run(server.stub, hdr, samples_of(i, image)))

    # Kill a replica that holds the lease of a run in the middle of its upload.
    def leases_mid_upload() -> str:
        rows = psql(db_url, "SELECT lease_owner, run_id FROM runs WHERE state = 2 AND "
                            "lease_owner IS NOT NULL AND lease_expires_at > now() "
                            "ORDER BY create_time_ns")
        return rows if rows and confirms(sim) >= SAMPLES // 2 else ""

    rows = wait_until(leases_mid_upload, 60, "a replica uploading a run", interval=0.02)
    victim_id = rows.splitlines()[0].split("|")[0]
    victim = servers[int(victim_id.removeprefix("replica-"))]
    killed_at = time.monotonic()
    victim.kill()  # SIGKILL: no lease is released
    # The runs the victim left mid-upload, read once it is dead: a run it finished between the
    # query above and the kill needs no takeover. (Nobody can take a lease over before it
    # expires.)
    victim_runs = set(psql(db_url, "SELECT run_id FROM runs WHERE state = 2 AND "
                                   f"lease_owner = '{victim_id}'").split())
    assert victim_runs, f"{victim_id} finished its uploads before it was killed"
    survivors = [s for s in servers if s is not victim]

    finals = [wait_run(survivors[0].stub, run.name, timeout=120) for run in runs]
    elapsed = time.monotonic() - killed_at
    for run, final in zip(runs, finals):
        assert state_name(final) == "RUN_STATE_ANNOTATING", (run.name, final.failure_reason)
        p = final.progress
        assert (p.samples_total, p.samples_completed, p.samples_failed) == (SAMPLES, SAMPLES, 0)
        assert p.labels_imported == SAMPLES, p
    # The victim's runs were finished by the others, once its leases had expired.
    taken_over = set().union(*(uploads_started(s) for s in survivors))
    assert victim_runs <= taken_over, (victim_runs, taken_over)
    assert elapsed < 60, elapsed
    # Work was spread: more than one replica uploaded.
    assert sum(1 for s in servers if uploads_started(s)) >= 2

    # Exactly once in V7: one item per sample, carrying exactly its one annotation.
    for i, run in enumerate(runs):
        items = items_by_sample(sim, f"rep-{i}")  # fails on two items for one sample
        assert sorted(items) == [f"r{i}s{k:03d}" for k in range(SAMPLES)]
        for item in items.values():
            assert item["annotation_count"] == 1, item
        ids = DeterministicIds(run.uid)
        for k in (0, SAMPLES // 2, SAMPLES - 1):
            annos = sim.annotations(items[f"r{i}s{k:03d}"]["id"])
            assert [a["id"] for a in annos] == [ids.of(f"{i:04d}{k:020x}")]
    # Nothing confirmed twice beyond what the victim had in flight (2 runs x 4 uploads).
    assert RUNS * SAMPLES <= confirms(sim) <= RUNS * SAMPLES + 8
    # No lease is left behind. (A job releases its lease just after it set the run's state.)
    wait_until(lambda: psql(db_url, "SELECT count(*) FROM runs WHERE lease_owner IS NOT NULL")
               == "0", 10, "every lease released",
               details=lambda: psql(db_url, "SELECT run_id, lease_owner FROM runs WHERE "
                                            "lease_owner IS NOT NULL"))


def test_runs_created_on_one_replica_are_visible_and_managed_on_the_others(
        replica, sim, db_url, tmp_path):
    servers = start_replicas(replica, sim, db_url, count=2)
    image = make_image(tmp_path / "img.png")
    hdr = header("shared", [field_schema("gt", "detections", ["car"])], slug="shared",
                 existing=[("gt", "Detections")])
    run = create_run(servers[0].stub, hdr, samples_of(0, image)[:5])
    final = wait_run(servers[1].stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.uid == run.uid
    assert len(items_by_sample(sim, "shared")) == 5


def test_a_wrong_database_password_stops_start_up_without_showing_it(db_url, tmp_path):
    bad = re.sub(r"(//[^:/@]+:)[^@]+@", r"\1Wr0ng-Pa55word@", db_url)
    assert "Wr0ng-Pa55word" in bad
    out = subprocess.run([str(wait_for_binary()), "--listen", "127.0.0.1:0", "--store", bad,
                          "--data_dir", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=30, env=hermetic_env())
    assert out.returncode != 0
    assert out.stdout == ""
    assert "Wr0ng-Pa55word" not in out.stderr
    assert "cannot open the run store" in out.stderr and "****" in out.stderr, out.stderr
