"""The labelport-server process: flags, persistence across restarts, graceful SIGTERM."""

from __future__ import annotations

import queue
import subprocess

import grpc
from labelport.v1 import annotation_run_pb2 as run_pb
from labelport.v1 import annotation_service_pb2 as svc
from labelport.v1 import annotation_service_pb2_grpc

from .conftest import hermetic_env, wait_for_binary
from .helpers import (
    PARENT, create_run, header, image_samples, list_all_runs, run_name,
)

FLAGS = [
    "--listen",
    "--data_dir",
    "--store",
    "--log_level",
    "--log_json",
    "--drain_seconds",
    "--worker_threads",
    "--cpu_threads",
    "--max_message_mb",
    "--media_url_allow",
    "--max_media_bytes",
    "--media_fetch_stall_seconds",
    "--media_fetch_timeout_seconds",
    "--max_run_samples",
    "--max_connection_age_seconds",
    "LABELPORT_MAX_CONNECTION_AGE_SECONDS",
    "--max_create_run_mb",
    "--darwin_rate_burst",
    "LABELPORT_DARWIN_RATE_BURST",
    "--darwin_outage_wait_seconds",
    "LABELPORT_DARWIN_OUTAGE_WAIT_SECONDS",
    "--darwin_retry_attempts",
    "--store_threads",
    "LABELPORT_STORE_THREADS",
]


def run_binary(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(wait_for_binary()), *args],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=cwd,
        env=hermetic_env(),
    )


def start_with_env(tmp_path, name: str, value: str) -> subprocess.CompletedProcess:
    """Runs the server on a data dir under tmp_path with the environment variable `name` set to
    `value` (a flag's fallback), for start-ups that must fail; waits 20 s at the most."""
    return subprocess.run(
        [str(wait_for_binary()), "--data_dir", str(tmp_path / "data")], capture_output=True,
        text=True, timeout=20, cwd=tmp_path, env={**hermetic_env(), name: value})


def test_help_exits_zero_and_names_every_flag(tmp_path):
    result = run_binary("--help", cwd=tmp_path)
    out = result.stdout + result.stderr
    for flag in FLAGS:
        assert flag in out, f"{flag} missing from --help:\n{out}"
    assert not (tmp_path / "labelport-data").exists(), "--help must not start a server"
    assert result.returncode == 0, f"--help exited {result.returncode}"


def test_bad_flag_values_exit_non_zero_naming_the_flag(tmp_path):
    cases = {
        "--worker_threads": ["--worker_threads", "0"],
        "--drain_seconds": ["--drain_seconds", "-1"],
        "--max_message_mb": ["--max_message_mb", "0"],
        "--max_run_samples": ["--max_run_samples", "1000001"],
        "--max_create_run_mb": ["--max_create_run_mb", "0"],
        "--listen": ["--listen", "no-port"],
        "--log_level": ["--log_level", "loud"],
        "--store": ["--store", "mysql://db"],
        "--import_concurrency": ["--import_concurrency", "0"],
        "--darwin_max_connections": ["--darwin_max_connections", "0"],
        "--darwin_retry_attempts": ["--darwin_retry_attempts", "0"],
        "--media_url_allow": ["--media_url_allow", "10.0.0.1/8"],
        "--max_media_bytes": ["--max_media_bytes", "0"],
        "--media_fetch_stall_seconds": ["--media_fetch_stall_seconds", "0"],
        "--media_fetch_timeout_seconds": ["--media_fetch_timeout_seconds", "0"],
        "--darwin_rate_burst": ["--darwin_rate_burst", "-1"],
        "--darwin_outage_wait_seconds": ["--darwin_outage_wait_seconds", "-5"],
        "--store_threads": ["--store_threads", "0"],
    }
    for flag, args in cases.items():
        result = run_binary(*args, "--data_dir", str(tmp_path / "data"), cwd=tmp_path)
        assert result.returncode != 0, (flag, result)
        assert flag in result.stderr, (flag, result.stderr)
        assert result.stdout == "", "no 'listening on' line for a bad configuration"
    result = run_binary("--no_such_flag", cwd=tmp_path)
    assert result.returncode != 0
    assert "no_such_flag" in result.stderr


def test_import_concurrency_from_the_environment_is_validated_naming_the_flag(tmp_path):
    result = start_with_env(tmp_path, "LABELPORT_IMPORT_CONCURRENCY", "0")
    assert result.returncode != 0, result
    assert "--import_concurrency must be between 1 and 256 (got 0)" in result.stderr
    assert result.stdout == ""
    result = run_binary("--help", cwd=tmp_path)
    assert "--import_concurrency" in result.stdout + result.stderr
    assert "LABELPORT_IMPORT_CONCURRENCY" in result.stdout + result.stderr


def test_cpu_threads_flag_and_environment(tmp_path):
    """--cpu_threads (LABELPORT_CPU_THREADS) sizes the one CPU pool of the loads; it is checked
    at start-up and documented with its variable in --help."""
    result = start_with_env(tmp_path, "LABELPORT_CPU_THREADS", "-1")
    assert result.returncode != 0, result
    assert "--cpu_threads must be between 0 (the number of cores) and 256" in result.stderr
    out = run_binary("--help", cwd=tmp_path)
    assert "LABELPORT_CPU_THREADS" in out.stdout + out.stderr


def test_malformed_media_url_allowlist_from_the_environment_names_the_entry(tmp_path):
    for value, why in [("10.0.0.1/8", "host bits set beyond /8 (did you mean 10.0.0.0/8?)"),
                       ("*.internal", "wildcards are not supported"),
                       ("127.1", "reads as an IPv4 address in a non-standard notation")]:
        result = start_with_env(tmp_path, "LABELPORT_MEDIA_URL_ALLOW", value)
        assert result.returncode != 0, result
        assert f"--media_url_allow: egress allowlist entry '{value}': {why}" in result.stderr
        assert result.stdout == ""
    help_text = run_binary("--help", cwd=tmp_path)
    for name in ("LABELPORT_MEDIA_URL_ALLOW", "LABELPORT_MAX_MEDIA_BYTES",
                 "LABELPORT_MEDIA_FETCH_STALL_SECONDS", "LABELPORT_MEDIA_FETCH_TIMEOUT_SECONDS"):
        assert name in help_text.stdout, name


def test_runs_and_samples_survive_a_restart(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    first = server_factory(data_dir=data_dir)
    created = {
        key: create_run(first.stub, header(key, request_id=f"req-{key}"), image_samples(n)).run
        for key, n in [("alpha", 3), ("beta", 5)]
    }
    first.stub.RenameRun(svc.RenameRunRequest(name=run_name("beta"), new_anno_key="gamma"))
    created["gamma"] = first.stub.GetRun(svc.GetRunRequest(name=run_name("gamma"))).run
    del created["beta"]
    assert first.stop() == 0

    second = server_factory(data_dir=data_dir)
    assert second.port > 0
    runs = list_all_runs(second.stub, page_size=10)
    assert [r.anno_key for r in runs] == ["alpha", "gamma"]
    for run in runs:
        assert run == created[run.anno_key]
        assert second.stub.GetRun(svc.GetRunRequest(name=run.name)).run == run
    ids = second.stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("gamma")))
    assert list(ids.sample_ids) == [f"s{i:03d}" for i in range(5)]

    # Idempotency keys are durable too.
    replay = create_run(second.stub, header("alpha", request_id="req-alpha"), image_samples(3))
    assert replay.created is False and replay.run == created["alpha"]


def test_sigterm_during_a_create_run_stream_drains_it(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    server = server_factory(data_dir=data_dir, args=["--drain_seconds", "10"])
    outbox: queue.Queue = queue.Queue()
    sent: queue.Queue = queue.Queue()

    def requests():
        while (item := outbox.get(timeout=20)) is not None:
            yield item
            sent.put(True)

    batches = [image_samples(2, prefix="a"), image_samples(3, prefix="b")]
    outbox.put(svc.CreateRunRequest(header=header("draining", request_id="req-drain")))
    outbox.put(svc.CreateRunRequest(samples=svc.SampleBatch(samples=batches[0])))
    future = server.stub.CreateRun.future(requests(), timeout=30)
    sent.get(timeout=10)
    sent.get(timeout=10)
    # A unary call on the same connection, completed after the stream's messages were
    # written: the server has read them, so the stream is in flight when SIGTERM arrives.
    try:
        server.stub.GetRun(svc.GetRunRequest(name=run_name("barrier")), timeout=10)
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND
    assert not future.done()

    server.terminate()
    outbox.put(svc.CreateRunRequest(samples=svc.SampleBatch(samples=batches[1])))
    outbox.put(None)

    response = future.result(timeout=20)
    assert response.created
    assert response.run.anno_key == "draining"
    assert response.run.state == run_pb.RUN_STATE_PENDING
    assert response.run.progress.samples_total == 5
    assert server.wait() == 0

    # The server is gone: a new connection fails.
    with grpc.insecure_channel(server.target) as channel:
        stub = annotation_service_pb2_grpc.AnnotationServiceStub(channel)
        try:
            stub.ListRuns(svc.ListRunsRequest(parent=PARENT), timeout=3)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAVAILABLE, e
        else:
            raise AssertionError("a call succeeded after the server exited")

    # The run completed during the drain is durable.
    restarted = server_factory(data_dir=data_dir)
    ids = restarted.stub.ListRunSamples(svc.ListRunSamplesRequest(name=run_name("draining")))
    assert list(ids.sample_ids) == ["a000", "a001", "b000", "b001", "b002"]
