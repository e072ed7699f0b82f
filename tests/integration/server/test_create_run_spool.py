"""CreateRun spools its batches to the store as they arrive: the run appears only when the
stream ends and everything was valid; a refused, cancelled or crashed stream leaves no row
behind (checked in the SQLite file itself)."""

from __future__ import annotations

import queue
import sqlite3
from pathlib import Path

import grpc
from labelport.v1 import annotation_service_pb2 as svc

from .conftest import ServerProcess
from .waiting import wait_until
from .helpers import (
    PARENT, assert_error, call_error, create_run, detection, header, image_sample, image_samples,
    run_name,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DEADLINE_S = 30


def store_rows(data_dir: Path) -> dict:
    """Row counts of the run tables of the server's SQLite store."""
    with sqlite3.connect(data_dir / "labelport.db", timeout=10) as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("runs", "run_samples", "spooled_label_ids", "request_ids")
        }


def wait_for_rows(data_dir: Path, predicate, what: str) -> dict:
    """Polls the store until `predicate(rows)` holds; fails after DEADLINE_S."""
    seen = {}

    def matching():
        seen["rows"] = store_rows(data_dir)
        return seen["rows"] if predicate(seen["rows"]) else None

    return wait_until(matching, DEADLINE_S, what, details=lambda: f"still {seen['rows']}")


EMPTY = {"runs": 0, "run_samples": 0, "spooled_label_ids": 0, "request_ids": 0}


class HeldStream:
    """A CreateRun whose requests the test hands over one by one (and may never end)."""

    def __init__(self, stub, first_requests):
        self._outbox: queue.Queue = queue.Queue()
        for request in first_requests:
            self._outbox.put(request)
        self.future = stub.CreateRun.future(self._requests(), timeout=60)

    def _requests(self):
        while (item := self._outbox.get()) is not None:
            yield item

    def end(self) -> None:
        self._outbox.put(None)


def batch(samples) -> svc.CreateRunRequest:
    return svc.CreateRunRequest(samples=svc.SampleBatch(samples=list(samples)))


def test_5000_samples_in_batches_are_all_stored_and_paged(server):
    samples = image_samples(5000, prefix="x", boxes_per_sample=1)
    created = create_run(server.stub, header("big"), samples, batch_size=700, timeout=120)
    assert created.created
    assert created.run.progress.samples_total == 5000
    assert created.run.progress.labels_total == 5000
    ids, token = [], ""
    while True:
        page = server.stub.ListRunSamples(
            svc.ListRunSamplesRequest(name=run_name("big"), page_size=1200, page_token=token),
            timeout=10)
        ids.extend(page.sample_ids)
        token = page.next_page_token
        if not token:
            break
    assert ids == [s.id for s in samples]
    # Spool bookkeeping is gone once the run is live.
    assert store_rows(server.data_dir) == {
        "runs": 1, "run_samples": 5000, "spooled_label_ids": 0, "request_ids": 0}


def test_duplicate_sample_id_in_a_later_batch_stores_nothing(server):
    samples = image_samples(6) + [image_sample("s001")]
    err = call_error(create_run, server.stub, header("k"), samples, batch_size=3)
    assert_error(err, INVALID, "Sample id 's001' appears more than once in the run",
                 field="samples[6].id", reason="SAMPLE_ID_DUPLICATE")
    assert store_rows(server.data_dir) == EMPTY
    assert not server.stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs


def test_duplicate_label_id_in_a_later_batch_stores_nothing(server):
    samples = [image_sample(f"s{i}", detections=[detection("cat", [0, 0, 1, 1], f"{i:024x}")])
               for i in range(4)]
    samples.append(image_sample("s4", detections=[detection("cat", [0, 0, 1, 1], f"{1:024x}")]))
    err = call_error(create_run, server.stub, header("k"), samples, batch_size=2)
    assert_error(
        err, INVALID,
        f"Sample 's4' field 'ground_truth': label id '{1:024x}' appears more than once in the run",
        field="samples[4].fields[0].value", reason="LABEL_ID_DUPLICATE")
    assert store_rows(server.data_dir) == EMPTY


def test_cancelled_stream_stores_nothing(server):
    stream = HeldStream(server.stub, [
        svc.CreateRunRequest(header=header("k", request_id="req-cancel")),
        batch(image_samples(10, prefix="a")),
        batch(image_samples(10, prefix="b")),
    ])
    # The batches are spooled as they arrive, before the stream ends ...
    wait_for_rows(server.data_dir, lambda rows: rows["run_samples"] == 20, "spooling")
    assert not server.stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    # ... and dropped when the client cancels.
    stream.future.cancel()
    stream.end()
    wait_for_rows(server.data_dir, lambda rows: rows == EMPTY, "discarding the cancelled spool")
    assert not server.stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    # The request id was never recorded: the same call again creates the run.
    created = create_run(server.stub, header("k", request_id="req-cancel"), image_samples(3))
    assert created.created


def test_spool_of_a_crashed_server_is_removed_at_restart(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir)  # killed below, so not from server_factory
    try:
        stream = HeldStream(first.stub, [
            svc.CreateRunRequest(header=header("k")),
            batch(image_samples(25)),
        ])
        wait_for_rows(data_dir, lambda rows: rows["run_samples"] == 25, "spooling")
    finally:
        first.kill()  # SIGKILL: no chance to clean up
    stream.end()
    assert store_rows(data_dir)["run_samples"] == 25
    # The same worker id (the host name by default) starts again on the same store.
    second = server_factory(data_dir=data_dir)
    assert store_rows(data_dir) == EMPTY
    assert not second.stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10).runs
    assert create_run(second.stub, header("k"), image_samples(25)).created
