"""Fixtures of the load tests: one darwin-sim and one labelport-server per module (each test
makes its own run and V7 dataset, so tests stay independent while the folder stays fast), plus
the upload fixtures (`sim_factory`, `upload_server`) for tests that need their own processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from server.conftest import ServerProcess
from upload.conftest import sim_factory, test_ca, upload_server  # noqa: F401  (fixtures)
from upload.support import Sim

EXPORT_TIMEOUT_S = 3


def start_server(sim: Sim, data_dir: Path, args=()) -> ServerProcess:
    flags = [*sim.server_flags(data_dir), "--worker_id", "w1",
             "--darwin_rate_limit_per_minute", "60000", "--log_level", "info",
             "--export_timeout_seconds", str(EXPORT_TIMEOUT_S)]
    return ServerProcess(data_dir, [*flags, *args])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """(sim, server) shared by the tests of a module; SIGTERM must exit 0 at the end."""
    sim = Sim(tmp_path_factory.mktemp("sim"))
    server = start_server(sim, tmp_path_factory.mktemp("data"))
    yield sim, server
    code = server.stop()
    sim.stop()
    assert code == 0, server.stderr()


@pytest.fixture
def sim(shared) -> Sim:
    s, _ = shared
    s.control("DELETE", "/_sim/faults")
    s.configure(export_delay_ms=0)
    return s


@pytest.fixture
def server(shared, sim) -> ServerProcess:
    return shared[1]
