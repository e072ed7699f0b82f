"""Many runs and concurrent callers against one labelport-server."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
from labelport.v1 import annotation_service_pb2 as svc

from .helpers import (
    PARENT, assert_error, call_error, create_run, create_run_requests, header, image_samples,
    list_all_runs, run_name,
)


def test_list_runs_pages_over_1000_runs(server_factory):
    # Runs of a server without a V7 key stay PENDING: lift the runs-in-flight quota.
    stub = server_factory(args=["--max_runs_in_flight_per_tenant=0"]).stub
    keys = [f"run_{i:04d}" for i in range(1000)]
    shuffled = random.Random(7).sample(keys, len(keys))  # creation order is not key order

    def create(key):
        return create_run(stub, header(key), image_samples(1), timeout=30).run.anno_key

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sorted(pool.map(create, shuffled)) == keys

    runs = list_all_runs(stub, page_size=37)
    listed = [r.anno_key for r in runs]
    assert len(listed) == 1000
    assert listed == keys  # every run exactly once, in key order
    # 1000 = 27 * 37 + 1: the last page holds one run.
    assert list_all_runs(stub, page_size=1000)[-1].anno_key == "run_0999"

    # The default page size is 50 and a page never exceeds 1,000.
    first = stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=10)
    assert len(first.runs) == 50 and first.next_page_token
    big = stub.ListRuns(svc.ListRunsRequest(parent=PARENT, page_size=5000), timeout=10)
    assert len(big.runs) == 1000


def test_concurrent_create_run_with_the_same_key_creates_exactly_one(stub):
    threads = 8
    barrier = threading.Barrier(threads)

    def attempt(i):
        requests = list(
            create_run_requests(header("contested", request_id=f"req-{i}"), image_samples(i + 1))
        )
        barrier.wait(timeout=10)
        try:
            return stub.CreateRun(iter(requests), timeout=30)
        except grpc.RpcError as e:
            return e

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(attempt, range(threads)))

    winners = [r for r in results if not isinstance(r, grpc.RpcError)]
    losers = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(winners) == 1, results
    assert winners[0].created
    assert len(losers) == threads - 1
    for err in losers:
        assert_error(
            err,
            grpc.StatusCode.ALREADY_EXISTS,
            "Annotation run with key 'contested' already exists",
            field="header.anno_key",
            reason="RUN_ALREADY_EXISTS",
        )

    # The stored run is the winner's, with the winner's samples only.
    stored = stub.GetRun(svc.GetRunRequest(name=run_name("contested")), timeout=10).run
    assert stored == winners[0].run
    ids = stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("contested")), timeout=10)
    assert len(ids.sample_ids) == stored.progress.samples_total
    # A loser's request id recorded nothing: replaying it clashes again.
    loser = next(i for i, r in enumerate(results) if isinstance(r, grpc.RpcError))
    retry = create_run_requests(header("contested", request_id=f"req-{loser}"),
                                image_samples(loser + 1))
    err = call_error(stub.CreateRun, retry, timeout=10)
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS


def test_concurrent_replays_of_one_request_id_return_one_run(stub):
    threads = 8
    barrier = threading.Barrier(threads)
    hdr = header("replayed", request_id="req-same")
    samples = image_samples(3)

    def attempt(_):
        requests = list(create_run_requests(hdr, samples))
        barrier.wait(timeout=10)
        return stub.CreateRun(iter(requests), timeout=30)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        responses = list(pool.map(attempt, range(threads)))

    assert sum(r.created for r in responses) == 1
    assert all(r.run == responses[0].run for r in responses)
    assert [r.anno_key for r in list_all_runs(stub, page_size=10)] == ["replayed"]

