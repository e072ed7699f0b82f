"""Fixtures of the HTTP/JSON gateway tests: darwin-sim, a labelport-server bound to it, and
labelport-gateway (built from gateway/ with `go build`) in front of the server, all on 127.0.0.1.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest
from load.conftest import start_server
from server.processes import stop_process
from upload.support import Sim

REPO = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("LP_BUILD", str(REPO / "build")))
START_TIMEOUT_S = 15


@pytest.fixture(scope="session")
def gateway_binary() -> Path:
    """labelport-gateway, built into $LP_BUILD/gateway (Go's build cache makes it quick)."""
    out = BUILD / "gateway" / "labelport-gateway"
    done = subprocess.run(["go", "build", "-o", str(out), "./cmd/labelport-gateway"],
                          cwd=REPO / "gateway", capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"go build of labelport-gateway failed:\n{done.stderr}"
    return out


class Gateway:
    """A labelport-gateway process; `url` is its http(s)://127.0.0.1:PORT."""

    def __init__(self, binary: Path, backend: str, log_dir: Path, args=()):
        self._stderr_path = log_dir / "gateway.stderr"
        self._stderr = open(self._stderr_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABELPORT_")}
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--backend", backend, *args],
            env=env, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.proc.kill()
            pytest.fail(f"labelport-gateway did not start; {self.stderr()}")
        if not line.startswith("listening on "):
            self.proc.kill()
            pytest.fail(f"unexpected first line {line!r}; {self.stderr()}")
        scheme = "https" if "--tls_cert" in args else "http"
        self.url = f"{scheme}://" + line.removeprefix("listening on ").strip()

    def stderr(self) -> str:
        self._stderr.flush()
        return "gateway stderr:\n" + self._stderr_path.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        if not stop_process(self.proc, timeout=15):
            pytest.fail("labelport-gateway did not exit within 15 s of SIGTERM")
        self._stderr.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def stack(tmp_path_factory, gateway_binary):
    """(sim, server, gateway) shared by a module; each must stop cleanly at the end."""
    sim = Sim(tmp_path_factory.mktemp("sim"))
    server = start_server(sim, tmp_path_factory.mktemp("data"))
    gateway = Gateway(gateway_binary, server.target, tmp_path_factory.mktemp("gateway"))
    yield sim, server, gateway
    gateway_code = gateway.stop()
    server_code = server.stop()
    sim.stop()
    assert gateway_code == 0, gateway.stderr()
    assert server_code == 0, server.stderr()


@pytest.fixture
def gateway(stack) -> Gateway:
    return stack[2]
