"""Fixtures that run the built darwin-sim binary for the SDK conformance tests.

The SDK's retry waits are read when ``darwin.client`` is imported, so they are
set here, before any test module imports ``darwin``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from server.certs import make_server_certificate
from server.processes import stop_process

os.environ["DARWIN_RETRY_INITIAL_WAIT"] = "0"
os.environ["DARWIN_RETRY_MAX_WAIT"] = "1"
os.environ["DARWIN_RETRY_MAX_ATTEMPTS"] = "4"


def _ensure_fast_sdk_retries() -> None:
    """If another test package imported darwin.client first (with V7's 60-300 s waits),
    give its retrying methods the same fast policy the variables above would have."""
    client = sys.modules.get("darwin.client")
    if client is None or (client.INITIAL_WAIT == 0 and client.MAX_WAIT <= 1):
        return
    import tenacity

    for name in ("_get_raw_from_full_url", "_put_raw", "_post_raw", "_delete"):
        retrying = getattr(client.Client, name).retry
        retrying.wait = tenacity.wait_exponential_jitter(initial=0, max=1)
        retrying.stop = tenacity.stop_after_attempt(4)


_ensure_fast_sdk_retries()

REPO_ROOT = Path(__file__).resolve().parents[3]
SIM_BINARY = Path(os.environ.get("LP_BUILD", str(REPO_ROOT / "build"))) / (
    "tests/darwin_sim/darwin-sim"
)
# Vendored copies of darwin-py's Darwin JSON files (MIT; see LICENSE-NOTE.md there).
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures" / "darwin-json"


def new_api_key() -> str:
    """A key shaped like V7's: 7 characters, '.', 32 characters."""
    return f"{secrets.token_hex(4)[:7]}.{secrets.token_hex(16)}"


class Sim:
    """A running darwin-sim process and helpers for its /_sim control API."""

    def __init__(self, extra_args: list[str], ca_file: Path | None = None) -> None:
        self.team = "sim-team"
        self.api_key = new_api_key()
        self.ca_file = ca_file
        args = [
            str(SIM_BINARY),
            "--listen",
            "127.0.0.1:0",
            "--team",
            self.team,
            "--api_key",
            self.api_key,
            "--threads",
            "2",
            *extra_args,
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"darwin-sim did not start: {line!r} {self.proc.stderr.read()}")
        self.url = line.removeprefix("listening on ")

    def control(self, method: str, path: str, body: object | None = None) -> object:
        """Calls a /_sim endpoint and returns its decoded JSON body."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        ctx = None
        if self.url.startswith("https://"):
            import ssl

            ctx = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return json.loads(resp.read())

    def requests_log(self) -> list[dict]:
        return self.control("GET", "/_sim/requests")["requests"]

    def stop(self) -> int:
        exited = stop_process(self.proc, timeout=10)
        assert exited, "darwin-sim did not exit within 10 s of SIGTERM"
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, made with openssl."""
    return make_server_certificate(tmp_path_factory.mktemp("tls"), "darwin-sim test CA")


@pytest.fixture
def sim():
    s = Sim([])
    yield s
    assert s.stop() == 0


@pytest.fixture
def tls_sim(tls_files):
    s = Sim(["--tls_cert", str(tls_files["cert"]), "--tls_key", str(tls_files["key"])],
            ca_file=tls_files["ca"])
    yield s
    assert s.stop() == 0


@pytest.fixture(params=["http", "https"])
def any_sim(request, tls_files):
    """The sim over plain HTTP and over HTTPS (trusted through REQUESTS_CA_BUNDLE)."""
    if request.param == "http":
        s = Sim([])
    else:
        s = Sim(["--tls_cert", str(tls_files["cert"]), "--tls_key", str(tls_files["key"])],
                ca_file=tls_files["ca"])
    yield s
    assert s.stop() == 0


@pytest.fixture
def sdk_env(monkeypatch, tmp_path):
    """Points darwin-py at a sim: returns a function that builds a Client for it."""

    def connect(s: Sim):
        from darwin.client import Client

        monkeypatch.setenv("DARWIN_BASE_URL", s.url)
        if s.ca_file is not None:
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(s.ca_file))
        datasets_dir = tmp_path / "darwin-datasets"
        datasets_dir.mkdir(exist_ok=True)
        return Client.from_api_key(s.api_key, datasets_dir=datasets_dir)

    return connect
