"""Fixtures of the Python client tests: darwin-sim and labelport-server processes (the upload
tests' fixtures) and a `labelport.Client` connected to the server.

pytest.ini (at the repository root) puts client/python and tests/integration on sys.path, so
the client package is imported from this checkout.
"""

from __future__ import annotations

import pytest
from upload.conftest import sim, sim_factory, upload_server  # noqa: F401
from upload.support import connected_client


@pytest.fixture
def server(sim, upload_server):  # noqa: F811 - the imported fixtures
    return upload_server(sim)


@pytest.fixture
def client(server):
    yield from connected_client(server)
