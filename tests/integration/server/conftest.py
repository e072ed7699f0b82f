"""Fixtures that run the built labelport-server binary as a real process.

`server_factory(data_dir=None, args=())` starts a server on 127.0.0.1:0 (a fresh tmp data dir
unless one is given, so a test can restart on the same one), waits for its first stdout line
"listening on HOST:PORT" and returns a `ServerProcess` with a connected `stub`. On teardown every
server still running gets SIGTERM and must exit 0 (kill -9 only as a fallback, and a failure).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from pathlib import Path
from typing import Optional, Sequence

import grpc
import pytest
from labelport.v1 import annotation_service_pb2_grpc

from .waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 15


def server_binary() -> Path:
    return Path(os.environ.get("LP_BUILD", str(REPO / "build"))) / "service/server/labelport-server"


def hermetic_env() -> dict:
    """The environment without settings that would reach the server from outside the test
    (LABELPORT_* flag fallbacks, V7 credentials)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LABELPORT_", "FIFTYONE_DARWIN_", "DARWIN_"))
    }


def wait_for_binary(timeout: float = 30) -> Path:
    """The server binary; polls briefly, as a concurrent re-link may replace it."""
    binary = server_binary()
    try:
        wait_until(lambda: binary.is_file() and os.access(binary, os.X_OK), timeout,
                   f"{binary} to exist")
    except AssertionError:
        pytest.fail(f"{binary} is missing; build it with: bash .ci/build labelport_server")
    return binary


class ServerProcess:
    """One labelport-server process and a channel to it."""

    def __init__(self, data_dir: Path, args: Sequence[str] = (), log_dir: Optional[Path] = None,
                 listen: str = "127.0.0.1:0",
                 credentials: Optional[grpc.ChannelCredentials] = None,
                 channel_options: Sequence[tuple] = ()):
        """`credentials`: the channel's TLS credentials (a plaintext channel without);
        `channel_options`: gRPC channel arguments (e.g. grpc.ssl_target_name_override)."""
        self.data_dir = Path(data_dir)
        binary = wait_for_binary()
        log_dir = Path(log_dir or self.data_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        self._stderr_path = log_dir / f"server-{os.getpid()}-{id(self)}.stderr"
        self._stderr = open(self._stderr_path, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "--listen", listen, "--data_dir", str(self.data_dir), *args],
            env=hermetic_env(),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
        )
        self.returncode: Optional[int] = None
        first_line: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_stdout, args=(first_line,), daemon=True).start()
        try:
            line = first_line.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            pytest.fail(f"no 'listening on' line within {START_TIMEOUT_S}s; {self.stderr()}")
        if not line.startswith("listening on "):
            self.kill()
            pytest.fail(f"unexpected first stdout line {line!r}; {self.stderr()}")
        self.target = line[len("listening on ") :].strip()
        self.port = int(self.target.rsplit(":", 1)[1])
        assert self.port > 0, line
        self.channel = (grpc.insecure_channel(self.target, options=list(channel_options))
                        if credentials is None
                        else grpc.secure_channel(self.target, credentials,
                                                 options=list(channel_options)))
        grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT_S)
        self.stub = annotation_service_pb2_grpc.AnnotationServiceStub(self.channel)

    def _read_stdout(self, first_line: queue.Queue) -> None:
        # Hands over the first line, then keeps draining so the pipe never fills up.
        line = self.proc.stdout.readline().decode(errors="replace")
        first_line.put(line)
        for _ in self.proc.stdout:
            pass

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return "server stderr:\n" + self._stderr_path.read_text(errors="replace")[-4000:]

    def log(self) -> str:
        """Everything the server wrote to stderr so far (stderr() keeps only the tail)."""
        if not self._stderr.closed:
            self._stderr.flush()
        return self._stderr_path.read_text(errors="replace")

    def wait_for_stderr(self, text: str, timeout: float = 10) -> str:
        """Waits until `text` is in the server's stderr (all of it, not just the tail) and
        returns the whole log. Info lines reach stderr in batches, a moment after they were
        logged (start-up lines before "listening on")."""
        def logged() -> Optional[str]:
            log = self.log()
            return log if text in log else None

        return wait_until(logged, timeout, f"{text!r} logged", details=self.stderr)

    def running(self) -> bool:
        return self.proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM without waiting."""
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """Waits for the exit after SIGTERM; kill -9 and fail when it does not come.

        gRPC's server shutdown also waits (up to --drain_seconds) for connected clients to
        close their connections after GOAWAY, so the test's channel is closed when the exit
        takes longer than a moment (closing it costs ~0.2 s, so not always up front).
        """
        try:
            self.returncode = self.proc.wait(timeout=min(1.0, timeout))
        except subprocess.TimeoutExpired:
            self.close_channel()
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(f"server did not exit within {timeout}s of SIGTERM; {self.stderr()}")
        self._close()
        return self.returncode

    def stop(self) -> int:
        """SIGTERM, then waits; returns the exit code."""
        if self.running():
            self.terminate()
        return self.wait()

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait()
        self._close()

    def close_channel(self) -> None:
        """Closes the channel to the server (stub calls fail afterwards)."""
        if getattr(self, "channel", None) is not None:
            self.channel.close()
            self.channel = None

    def _close(self) -> None:
        self.close_channel()
        self._stderr.close()


@pytest.fixture
def server_factory(tmp_path_factory):
    """Starts servers; `factory(data_dir=None, args=())`. Teardown: SIGTERM, exit code 0."""
    started: list = []

    def factory(data_dir: Optional[Path] = None, args: Sequence[str] = ()) -> ServerProcess:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("data")
        server = ServerProcess(data_dir, args)
        started.append(server)
        return server

    yield factory
    failures = []
    for server in started:
        if server.returncode is not None:
            if server.returncode != 0:
                failures.append(f"exit code {server.returncode}; {server.stderr()}")
            continue
        code = server.stop()
        if code != 0:
            failures.append(f"exit code {code} after SIGTERM; {server.stderr()}")
    assert not failures, failures


@pytest.fixture
def server(server_factory) -> ServerProcess:
    """One running server in a fresh data dir."""
    return server_factory()


@pytest.fixture
def stub(server):
    """An AnnotationService stub connected to a fresh server."""
    return server.stub
