"""--max_connection_age_seconds: the server closes a client's connection once it is that old (a
GOAWAY after the grace period), so long-lived clients reconnect and spread over new replicas;
the client's next call simply reconnects."""

from __future__ import annotations

import threading

import grpc
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc

from .helpers import PARENT


def test_connections_are_closed_after_their_maximum_age(server_factory):
    server = server_factory(args=["--max_connection_age_seconds", "1",
                                  "--max_connection_age_grace_seconds", "1"])
    channel = grpc.insecure_channel(server.target)
    states = []
    went_idle = threading.Event()

    def watch(state):
        states.append(state)
        if grpc.ChannelConnectivity.READY in states and state != grpc.ChannelConnectivity.READY:
            went_idle.set()

    channel.subscribe(watch, try_to_connect=True)
    stub = annotation_service_pb2_grpc.AnnotationServiceStub(channel)
    stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10)
    # The server ends the connection by itself (age 1 s + grace 1 s), without a call failing.
    assert went_idle.wait(timeout=30), states
    stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10)
    channel.unsubscribe(watch)
    channel.close()

