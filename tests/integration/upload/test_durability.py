"""Runs are durable jobs (DESIGN §5): kill -9 of the server at several points of a 500-sample
run, restarted with the same --worker_id and data dir, still ends with exactly 500 items and
exactly the expected annotations; a run that FAILED (wrong API key, V7 down) is resumed with
ResumeRun once the cause is fixed."""

from __future__ import annotations

import collections
import time

from labelport.v1 import annotation_service_pb2 as svc
from server.waiting import wait_until

from .support import (
    DeterministicIds, create_run, detection, detections, field_schema, header, image_sample,
    items_by_sample, make_image, media, new_api_key, state_name, wait_run,
)

COUNT = 500
LEASE_TTL_S = 30  # RunWorker::Options::lease_ttl


class LogWatcher:
    """Follows the sim's request log incrementally, counting V7 calls by kind."""

    def __init__(self, sim):
        self.sim = sim
        self.after = 0
        self.counts = collections.Counter()

    def poll(self) -> collections.Counter:
        page = self.sim.control("GET", f"/_sim/requests?after={self.after}&limit=5000")
        for r in page["requests"]:
            self.after = r["seq"]
            path = r["path"]
            if r["status"] != 200:
                continue
            for kind in ("register_upload", "sign", "confirm", "import"):
                if path.endswith("/" + kind):
                    self.counts[kind] += 1
            if path.startswith("/_upload/"):
                self.counts["put"] += 1
        return self.counts

    def wait_for(self, kind: str, at_least: int, timeout: float = 60) -> None:
        wait_until(lambda: self.poll()[kind] >= at_least, timeout, f"{at_least} {kind} calls",
                   details=lambda: self.counts)


def samples_500(tmp_path):
    path = make_image(tmp_path / "img" / "same.png")  # one file, 500 samples, same name
    return [image_sample(f"k{k:03d}", media(path=path),
                         gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5], id=f"{k:024x}"),
                                       detection("car", [0.0, 0.0, 0.5, 0.5],
                                                 id=f"{k + 1000:024x}")))
            for k in range(COUNT)]


def test_kill_9_at_several_points_then_restart_completes_exactly(sim, upload_server, tmp_path):
    data_dir = tmp_path / "data"
    server = upload_server(sim, data_dir=data_dir, worker_id="replica-0",
                           args=["--upload_concurrency", "8"])
    run = create_run(server.stub, header("durable", [field_schema("gt", "detections", ["car"])],
                                         slug="durable", existing=[("gt", "Detections")]),
                     samples_500(tmp_path))
    watcher = LogWatcher(sim)
    kill_points = [("sign", 60), ("confirm", 250), ("import", 150)]
    restarts = []
    for kind, n in kill_points:
        watcher.wait_for(kind, n)
        server.kill()  # SIGKILL
        restarts.append(dict(watcher.poll()))
        started = time.monotonic()
        server = upload_server(sim, data_dir=data_dir, worker_id="replica-0",
                               args=["--upload_concurrency", "8"])
        # The restarted worker (same worker id) takes its own lease back at once
        # (RunStore::ListClaimableRuns lists the runs leased by the asking owner), so it
        # resumes the run before the killed process's lease (30 s) could expire.
        before = watcher.poll()[kind]
        wait_until(lambda: watcher.poll()[kind] != before, LEASE_TTL_S - 5,
                   f"the restarted server's next {kind} call", details=lambda: restarts)
        restarts[-1]["resumed_after_s"] = round(time.monotonic() - started, 2)
    final = wait_run(server.stub, run.name, timeout=120)
    assert state_name(final) == "RUN_STATE_ANNOTATING", (final.failure_reason, restarts)
    p = final.progress
    assert (p.samples_total, p.samples_completed, p.samples_failed) == (COUNT, COUNT, 0), p
    assert p.labels_imported == 2 * COUNT
    assert not final.sample_errors

    items = items_by_sample(sim, "durable")
    assert len(items) == COUNT
    assert sorted(items) == [f"k{k:03d}" for k in range(COUNT)]
    assert sim.dataset("durable")["items"].__len__() == COUNT
    ids = DeterministicIds(run.uid)
    for k in range(0, COUNT, 1):
        item = items[f"k{k:03d}"]
        assert item["status"] == "new", item
        assert item["annotation_count"] == 2, item
    # Spot-check the annotations: exactly the two boxes, with their deterministic ids.
    for k in (0, 59, 60, 61, 249, 250, 251, 499):
        annos = sim.annotations(items[f"k{k:03d}"]["id"])
        assert sorted(a["id"] for a in annos) == sorted(
            [ids.of(f"{k:024x}"), ids.of(f"{k + 1000:024x}")])
        assert sorted((a["data"]["x"], a["data"]["w"]) for a in annos) == [(0, 16), (8, 16)]
    # Nothing was uploaded twice beyond the in-flight samples of each kill.
    counts = watcher.poll()
    assert counts["register_upload"] <= 4, (counts, restarts)
    assert COUNT <= counts["confirm"] <= COUNT + 3 * 8, (counts, restarts)
    for r in restarts:
        assert r["resumed_after_s"] < LEASE_TTL_S + 5, restarts


def test_failed_run_with_a_wrong_key_is_resumed_after_the_fix(sim, upload_server, tmp_path):
    data_dir = tmp_path / "data"
    server = upload_server(sim, data_dir=data_dir, api_key=new_api_key())
    samples = [image_sample(f"f{k}", media(path=make_image(tmp_path / f"f{k}.png")),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5])))
               for k in range(5)]
    run = create_run(server.stub, header("wrongkey", [field_schema("gt", "detections", ["car"])],
                                         slug="resumed", existing=[("gt", "Detections")]),
                     samples)
    failed = wait_run(server.stub, run.name)
    assert state_name(failed) == "RUN_STATE_FAILED"
    assert "401" in failed.failure_reason, failed.failure_reason
    assert sim.api_key not in failed.failure_reason
    server.stop()
    server = upload_server(sim, data_dir=data_dir)  # the right key now
    resumed = server.stub.ResumeRun(svc.ResumeRunRequest(name=run.name), timeout=10).run
    assert state_name(resumed) == "RUN_STATE_PENDING"
    final = wait_run(server.stub, run.name)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.failure_reason == ""
    assert final.progress.samples_completed == 5
    assert len(items_by_sample(sim, "resumed")) == 5


def test_run_created_while_v7_is_down_waits_for_it_and_finishes(sim, upload_server, tmp_path):
    server = upload_server(sim)
    samples = [image_sample(f"w{k}", media(path=make_image(tmp_path / f"w{k}.png")),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5])))
               for k in range(5)]
    sim.stop()  # V7 is down: connections are refused
    run = create_run(server.stub, header("wait", [field_schema("gt", "detections", ["car"])],
                                         slug="wait", existing=[("gt", "Detections")]),
                     samples)
    wait_until(lambda: "the upload waits and resumes when V7 answers" in server.log(), 60,
               "the upload waiting for V7", details=server.stderr)
    waiting = server.stub.GetRun(svc.GetRunRequest(name=run.name), timeout=10).run
    assert state_name(waiting) == "RUN_STATE_UPLOADING", waiting.failure_reason
    assert not waiting.failure_reason and waiting.progress.samples_failed == 0
    sim.restart()  # same port and key (empty: nothing had reached V7)
    final = wait_run(server.stub, run.name, timeout=90)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    assert final.progress.samples_completed == 5
    items = items_by_sample(sim, "wait")
    assert len(items) == 5
    for item in items.values():
        assert len(sim.annotations(item["id"])) == 1


def test_failed_run_while_v7_is_down_is_resumed(sim, upload_server, tmp_path):
    # Without waiting for V7, the run fails (and is resumed by hand).
    server = upload_server(sim, args=["--darwin_outage_wait_seconds", "0"])
    samples = [image_sample(f"d{k}", media(path=make_image(tmp_path / f"d{k}.png")),
                            gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5])))
               for k in range(5)]
    sim.stop()  # V7 is down
    run = create_run(server.stub, header("down", [field_schema("gt", "detections", ["car"])],
                                         slug="down", existing=[("gt", "Detections")]),
                     samples)
    failed = wait_run(server.stub, run.name, timeout=90)
    assert state_name(failed) == "RUN_STATE_FAILED"
    assert failed.failure_reason
    sim.restart()
    server.stub.ResumeRun(svc.ResumeRunRequest(name=run.name), timeout=10)
    final = wait_run(server.stub, run.name, timeout=60)
    assert state_name(final) == "RUN_STATE_ANNOTATING", final.failure_reason
    items = items_by_sample(sim, "down")
    assert len(items) == 5
    for item in items.values():
        assert len(sim.annotations(item["id"])) == 1
