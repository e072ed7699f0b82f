"""Fixtures of the replica tests: a private PostgreSQL database per test on the throwaway cluster
that `make test` starts (LABELPORT_TEST_POSTGRES_URL; without it these tests fail, never skip),
one darwin-sim, and labelport-server replicas sharing the database.

`replica(sim, db_url, worker_id, args=())` starts a server; servers killed with kill -9 by a
test are not expected to exit 0, all others must exit 0 on SIGTERM at teardown.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import urllib.parse
from typing import Sequence

import pytest
from server.conftest import ServerProcess
from server.processes import stop_servers
from upload.support import Sim

URL_VARIABLE = "LABELPORT_TEST_POSTGRES_URL"
PSQL = "/usr/lib/postgresql/15/bin/psql"


def cluster_url() -> str:
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        pytest.fail(
            f"{URL_VARIABLE} is not set, so the replica tests have no PostgreSQL. `make test` "
            "starts a throwaway cluster itself; by hand: "
            'eval "$(tests/support/postgres_cluster start)", run pytest, then '
            'tests/support/postgres_cluster stop "$LABELPORT_TEST_POSTGRES_DIR"')
    return url


def psql(url: str, sql: str) -> str:
    """Runs `sql` and returns its unaligned output (rows on lines, columns split by '|')."""
    out = subprocess.run([PSQL, "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def with_database(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


@pytest.fixture
def db_url() -> str:
    """A fresh, empty database, dropped afterwards."""
    base = cluster_url()
    name = f"lp_replicas_{os.getpid()}_{secrets.token_hex(4)}"
    psql(base, f"CREATE DATABASE {name}")
    yield with_database(base, name)
    psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sim(tmp_path_factory) -> Sim:
    s = Sim(tmp_path_factory.mktemp("sim"))
    yield s
    s.stop()


@pytest.fixture
def replica(tmp_path_factory):
    """Starts labelport-server replicas on one database, bound to a sim."""
    started = []

    def factory(sim: Sim, db_url: str, worker_id: str,
                args: Sequence[str] = ()) -> ServerProcess:
        data_dir = tmp_path_factory.mktemp(f"data-{worker_id}")
        flags = ["--store", db_url, *sim.server_flags(data_dir), "--worker_id", worker_id,
                 "--darwin_rate_limit_per_minute", "60000", "--log_level", "info"]
        server = ServerProcess(data_dir, [*flags, *args])
        started.append(server)
        return server

    yield factory
    stop_servers(started)
