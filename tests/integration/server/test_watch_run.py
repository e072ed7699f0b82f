"""WatchRun through the wire: the current run first, then an event for every change as it
happens (by notification, not by polling), resumable from a sequence number, following the run
across renames and ending with NOT_FOUND when it is deleted."""

from __future__ import annotations

import queue
import threading

import grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import create_run, header, run_name

# Generous: an event normally arrives within milliseconds. The server's safety re-read runs
# only every 30 s, so an event inside this deadline came by notification.
EVENT_DEADLINE_S = 10


class Watcher:
    """Runs WatchRun on a thread; events and the final status arrive on a queue."""

    def __init__(self, stub, name: str, after_sequence: int = 0):
        self.items: queue.Queue = queue.Queue()
        self.call = stub.WatchRun(svc.WatchRunRequest(name=name, after_sequence=after_sequence),
                                  timeout=120)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        try:
            for event in self.call:
                self.items.put(event)
            self.items.put(grpc.StatusCode.OK)
        except grpc.RpcError as e:
            self.items.put(e.code())

    def next(self, timeout: float = EVENT_DEADLINE_S):
        """The next event, or the status code the call ended with."""
        return self.items.get(timeout=timeout)

    def cancel(self) -> None:
        self.call.cancel()


def rename(stub, old: str, new: str) -> run_pb.AnnotationRun:
    return stub.RenameRun(svc.RenameRunRequest(name=run_name(old), new_anno_key=new),
                          timeout=10).run


def test_watch_run_sends_the_run_then_every_change_and_follows_renames(stub):
    run = create_run(stub, header("watched")).run
    watcher = Watcher(stub, run.name)
    first = watcher.next()
    assert first.sequence == run.revision == 1
    assert first.run.name == run.name and first.run.state == run_pb.RUN_STATE_PENDING

    renamed = rename(stub, "watched", "renamed")
    event = watcher.next()
    assert event.sequence == renamed.revision == 2
    assert event.run.name == run_name("renamed") and event.run.uid == run.uid

    # Changes of another run reach no one else's watcher.
    create_run(stub, header("bystander"))
    rename(stub, "bystander", "bystander2")
    back = rename(stub, "renamed", "watched")
    event = watcher.next()
    assert event.sequence == back.revision == 3
    assert event.run.anno_key == "watched"

    stub.DeleteRun(svc.DeleteRunRequest(name=run.name), timeout=10)
    assert watcher.next() == grpc.StatusCode.NOT_FOUND


def test_watch_run_resumes_after_a_sequence_number(stub):
    create_run(stub, header("resumed"))
    second = rename(stub, "resumed", "resumed2")
    # Sequence 1 was seen: the first event is the current state, 2, not 1. (Starting after 2
    # and renaming at once would race: a watch that resolves the name after the rename finds
    # no run of that name.)
    watcher = Watcher(stub, run_name("resumed2"), after_sequence=1)
    event = watcher.next()
    assert event.sequence == second.revision == 2
    assert event.run.anno_key == "resumed2"
    # Nothing is newer than sequence 2 now: the next event is the next change.
    third = rename(stub, "resumed2", "resumed3")
    event = watcher.next()
    assert event.sequence == third.revision == 3
    assert event.run.anno_key == "resumed3"
    watcher.cancel()
    assert watcher.next() == grpc.StatusCode.CANCELLED


def test_many_watchers_of_one_run_all_see_a_change(stub):
    run = create_run(stub, header("crowd")).run
    watchers = [Watcher(stub, run.name) for _ in range(50)]
    for w in watchers:
        assert w.next().sequence == 1
    renamed = rename(stub, "crowd", "crowd2")
    for w in watchers:
        event = w.next()
        assert event.sequence == renamed.revision and event.run.anno_key == "crowd2"
    for w in watchers:
        w.cancel()


def test_watch_run_of_an_unknown_run_is_not_found(stub):
    watcher = Watcher(stub, run_name("nobody"))
    assert watcher.next() == grpc.StatusCode.NOT_FOUND


def test_the_server_stops_cleanly_while_watchers_wait(server_factory):
    server = server_factory(args=["--drain_seconds", "1"])
    run = create_run(server.stub, header("left_open")).run
    watchers = [Watcher(server.stub, run.name) for _ in range(20)]
    for w in watchers:
        assert w.next().sequence == 1
    server.terminate()
    assert server.wait() == 0, server.stderr()
    for w in watchers:
        assert w.next() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
