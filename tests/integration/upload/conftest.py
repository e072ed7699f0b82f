"""Fixtures of the upload tests: darwin-sim over HTTP or HTTPS (a generated test CA) and
labelport-server processes pointed at it (API key in a file, CA file for HTTPS).

`upload_server(sim, data_dir=None, worker_id="w1", api_key=None, rate=6000, args=())` starts a
server; servers killed with kill -9 by a test are not expected to exit 0, all others must exit 0
on SIGTERM at teardown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pytest
from server.certs import make_server_certificate, openssl
from server.conftest import ServerProcess
from server.processes import stop_servers

from .support import Sim


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> dict:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost."""
    d = tmp_path_factory.mktemp("tls")
    files = make_server_certificate(d, "labelport upload test CA")
    # A second CA the server must not trust.
    openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
            "other.pem", "-days", "2", "-subj", "/CN=some other CA")
    return {**files, "other_ca": d / "other.pem"}


@pytest.fixture
def sim_factory(tmp_path_factory):
    started = []

    def factory(args: Sequence[str] = (), ca_file: Optional[Path] = None, **kw) -> Sim:
        s = Sim(tmp_path_factory.mktemp("sim"), args, ca_file=ca_file, **kw)
        started.append(s)
        return s

    yield factory
    for s in started:
        s.stop()


@pytest.fixture
def sim(sim_factory) -> Sim:
    return sim_factory()


@pytest.fixture
def https_sim(sim_factory, test_ca) -> Sim:
    return sim_factory(["--tls_cert", str(test_ca["cert"]), "--tls_key", str(test_ca["key"])],
                       ca_file=test_ca["ca"])


@pytest.fixture
def upload_server(tmp_path_factory):
    """Starts labelport-server processes bound to a sim."""
    started = []

    def factory(sim: Sim, data_dir: Optional[Path] = None, worker_id: str = "w1",
                api_key: Optional[str] = None, rate: int = 6000,
                args: Sequence[str] = ()) -> ServerProcess:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("data")
        flags = [*sim.server_flags(data_dir, api_key), "--worker_id", worker_id,
                 "--darwin_rate_limit_per_minute", str(rate), "--log_level", "info"]
        server = ServerProcess(data_dir, [*flags, *args])
        started.append(server)
        return server

    yield factory
    stop_servers(started)
