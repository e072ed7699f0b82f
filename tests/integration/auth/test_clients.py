"""The Python and Go clients against an authenticated server: LABELPORT_TOKEN and TLS roots,
client certificates for mTLS, and the `python -m labelport` and `labelportctl` flags."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from labelport import Client, LabelportError
from server.conftest import REPO
from server.helpers import create_run, header

from .conftest import client_credentials, tls_flags
from .support import new_token, tenant_stub


@pytest.fixture(scope="session")
def labelportctl(tmp_path_factory) -> Path:
    go = shutil.which("go")
    assert go, "go is needed to build labelportctl (bash .ci/setup installs it)"
    out = tmp_path_factory.mktemp("bin") / "labelportctl"
    subprocess.run([go, "build", "-o", str(out), "./cmd/labelportctl"], cwd=REPO / "client/go",
                   check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture
def token_tls_server(auth_server, tenants, pki):
    token = new_token()
    tenants.add("acme", tokens=[token])
    server = auth_server(tenants, args=tls_flags(pki), credentials=client_credentials(pki))
    create_run(tenant_stub(server.channel, token), header("from_clients"))
    return server, token


def test_python_client_reads_the_token_from_the_environment(token_tls_server, pki, monkeypatch):
    server, token = token_tls_server
    root = pki["ca"].read_bytes()
    monkeypatch.setenv("LABELPORT_TOKEN", token)
    with Client(server.target, root_certificates=root) as client:
        assert [r.anno_key for r in client.list_runs("quickstart")] == ["from_clients"]
    monkeypatch.delenv("LABELPORT_TOKEN")
    with Client(server.target, root_certificates=root) as client:
        with pytest.raises(LabelportError) as info:
            list(client.list_runs("quickstart"))
    assert info.value.code.name == "UNAUTHENTICATED"
    # An explicit argument wins over the environment.
    monkeypatch.setenv("LABELPORT_TOKEN", "wrong")
    with Client(server.target, token=token, root_certificates=root) as client:
        assert [r.anno_key for r in client.list_runs("quickstart")] == ["from_clients"]


def cli_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELPORT_")}
    return {**env, **extra}


def test_python_cli_and_labelportctl_with_token_and_ca(token_tls_server, pki, labelportctl):
    server, token = token_tls_server
    py = subprocess.run([sys.executable, "-m", "labelport", "--target", server.target, "--ca",
                         str(pki["ca"]), "list", "quickstart"], env=cli_env(LABELPORT_TOKEN=token),
                        capture_output=True, text=True, timeout=60)
    assert py.returncode == 0, py.stderr
    assert "from_clients" in py.stdout
    go = subprocess.run([str(labelportctl), "runs", "list", "quickstart", "--addr", server.target,
                         "--ca-file", str(pki["ca"]), "--token", token], env=cli_env(),
                        capture_output=True, text=True, timeout=60)
    assert go.returncode == 0, go.stderr
    assert "from_clients" in go.stdout
    bad = subprocess.run([str(labelportctl), "runs", "list", "quickstart", "--addr",
                          server.target, "--ca-file", str(pki["ca"])],
                         env=cli_env(LABELPORT_TOKEN="nope"), capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "UNAUTHENTICATED" in bad.stderr, bad
    assert "nope" not in bad.stderr + bad.stdout


def test_clients_with_client_certificates(auth_server, tenants, pki, labelportctl):
    tenants.add("acme", identities=["acme-ci"])
    server = auth_server(tenants, auth="mtls", args=tls_flags(pki, client_ca=True),
                         credentials=client_credentials(pki, "acme-ci"))
    create_run(server.stub, header("by_cert"))
    cert, key = pki["acme-ci"]["cert"], pki["acme-ci"]["key"]
    with Client(server.target, root_certificates=pki["ca"].read_bytes(),
                certificate_chain=cert.read_bytes(), private_key=key.read_bytes()) as client:
        assert [r.anno_key for r in client.list_runs("quickstart")] == ["by_cert"]
    py = subprocess.run([sys.executable, "-m", "labelport", "--target", server.target, "--ca",
                         str(pki["ca"]), "--cert", str(cert), "--key", str(key), "list",
                         "quickstart"], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert py.returncode == 0 and "by_cert" in py.stdout, py.stderr
    go = subprocess.run([str(labelportctl), "runs", "list", "quickstart", "--addr", server.target,
                         "--ca-file", str(pki["ca"]), "--cert-file", str(cert), "--key-file",
                         str(key)], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert go.returncode == 0 and "by_cert" in go.stdout, go.stderr
