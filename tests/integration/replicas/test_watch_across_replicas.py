"""WatchRun across replicas (DESIGN §11): a change made through one replica reaches a watcher on
another replica of the same PostgreSQL database by LISTEN/NOTIFY, promptly, without either
replica polling the store (their safety re-read runs only every 30 s, far beyond the deadline
here).

The replicas run without a V7 key, so no upload changes the runs: every event comes from the
test's own calls."""

from __future__ import annotations

import grpc
import pytest
from labelport.v1 import annotation_service_pb2 as svc
from server.conftest import ServerProcess
from server.helpers import create_run, header, run_name
from server.test_watch_run import EVENT_DEADLINE_S, Watcher


@pytest.fixture
def keyless_replica(tmp_path_factory):
    """Starts labelport-server replicas on one database, without V7 credentials."""
    started = []

    def factory(db_url: str, worker_id: str) -> ServerProcess:
        data_dir = tmp_path_factory.mktemp(f"data-{worker_id}")
        server = ServerProcess(data_dir, ["--store", db_url, "--worker_id", worker_id])
        started.append(server)
        return server

    yield factory
    codes = [server.stop() for server in started]
    assert codes == [0] * len(started), [server.stderr() for server in started]


def test_a_change_through_one_replica_reaches_a_watcher_on_another(keyless_replica, db_url):
    a = keyless_replica(db_url, "replica-a")
    b = keyless_replica(db_url, "replica-b")
    run = create_run(a.stub, header("shared")).run

    on_b = Watcher(b.stub, run.name)
    first = on_b.next()
    assert first.sequence == 1 and first.run.uid == run.uid

    renamed = a.stub.RenameRun(svc.RenameRunRequest(name=run.name, new_anno_key="moved"),
                               timeout=10).run
    event = on_b.next(timeout=EVENT_DEADLINE_S)
    assert event.sequence == renamed.revision == 2
    assert event.run.name == run_name("moved") and event.run.uid == run.uid

    # And the other way round, to a watcher on A.
    # Resumed after 1, the watch on A first sends the run as it is (2): then it has looked the
    # name up, which the rename below would otherwise race.
    on_a = Watcher(a.stub, run_name("moved"), after_sequence=1)
    assert on_a.next().sequence == 2
    back = b.stub.RenameRun(svc.RenameRunRequest(name=run_name("moved"), new_anno_key="shared"),
                            timeout=10).run
    assert on_a.next().sequence == back.revision == 3
    assert on_b.next().sequence == 3

    a.stub.DeleteRun(svc.DeleteRunRequest(name=run.name), timeout=10)
    assert on_b.next() == grpc.StatusCode.NOT_FOUND
    assert on_a.next() == grpc.StatusCode.NOT_FOUND
