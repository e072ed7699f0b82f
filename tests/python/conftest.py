"""Fixtures of the Python client tests: darwin-sim and labelport-server processes (the upload
tests' fixtures) and a `labelport.Client` connected to the server.

The client package is imported from this checkout (client/python), not from whatever copy the
shared virtualenv has installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO / "client/python", REPO / "tests/integration"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import pytest  # noqa: E402
from upload.conftest import sim, sim_factory, upload_server  # noqa: E402,F401

from labelport import Client  # noqa: E402


@pytest.fixture
def server(sim, upload_server):  # noqa: F811 - the imported fixtures
    return upload_server(sim)


@pytest.fixture
def client(server):
    with Client(server.target, timeout=30) as c:
        c.wait_for_ready()
        yield c
