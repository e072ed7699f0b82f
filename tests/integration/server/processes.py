"""The processes the integration tests and benchmarks start (labelport-server, darwin-sim, the
gateway): stopping them and reading their /proc status."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Iterable


def stop_process(proc: subprocess.Popen, timeout: float) -> bool:
    """Sends SIGTERM to `proc` if it still runs and waits up to `timeout` seconds for it to exit;
    kills it if it did not. Returns whether it exited (or had exited) without being killed."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def stop_servers(started: Iterable) -> None:
    """Teardown of a fixture that started labelport-server processes (server.conftest's
    ServerProcess): stops each one a test did not kill and asserts that each exited 0 on
    SIGTERM."""
    failures = []
    for server in started:
        if server.returncode is not None or server.proc.returncode is not None:
            continue  # killed by the test
        code = server.stop()
        if code != 0:
            failures.append(f"exit code {code} after SIGTERM; {server.stderr()}")
    assert not failures, failures


def proc_status_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status counted in kB (VmRSS, VmHWM...), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)
