"""Start-up rules: --auth=none only on loopback unless --allow_insecure_remote (with a
warning), the flags auth modes need, and tenants-file errors that never echo a secret."""

from __future__ import annotations

import subprocess

import pytest
from server.conftest import ServerProcess, hermetic_env, wait_for_binary

from .conftest import tls_flags
from .support import new_token


def start_fails(tmp_path, *args: str, env: dict | None = None) -> str:
    """Runs the server expecting it to refuse to start; returns its stderr."""
    proc = subprocess.run([str(wait_for_binary()), "--data_dir", str(tmp_path / "data"), *args],
                          env={**hermetic_env(), **(env or {})}, capture_output=True, text=True,
                          timeout=20)
    assert proc.returncode != 0, proc
    assert proc.stdout == ""
    return proc.stderr


def test_no_auth_on_a_non_loopback_address_is_refused(tmp_path):
    for listen in ("0.0.0.0:0", "[::]:0"):
        err = start_fails(tmp_path, "--listen", listen)
        assert "--auth=none" in err and "only allowed on a loopback --listen address" in err
        assert "--allow_insecure_remote" in err
    # The environment fallbacks follow the same rule.
    err = start_fails(tmp_path, env={"LABELPORT_LISTEN": "0.0.0.0:0"})
    assert "only allowed on a loopback" in err


def test_no_auth_on_a_non_loopback_address_with_the_override_warns(tmp_path):
    server = ServerProcess(tmp_path / "data", ["--allow_insecure_remote"], listen="0.0.0.0:0")
    try:
        assert "no authentication (--auth=none) on a non-loopback address" in server.log()
    finally:
        assert server.stop() == 0


def test_loopback_no_auth_warns_about_development_mode(tmp_path):
    server = ServerProcess(tmp_path / "data")
    try:
        assert "no authentication (--auth=none): every caller is tenant 'default'" in (
            server.log())
    finally:
        assert server.stop() == 0


def test_auth_modes_need_their_flags(tmp_path, pki):
    assert "--auth=token needs --tenants_file" in start_fails(tmp_path, "--auth", "token")
    tenants = tmp_path / "tenants.json"
    tenants.write_text('{"tenants": [{"name": "a", "client_identities": ["a"]}]}')
    err = start_fails(tmp_path, "--auth", "mtls", "--tenants_file", str(tenants))
    assert "--auth=mtls needs --tls_cert, --tls_key and --tls_client_ca" in err
    err = start_fails(tmp_path, "--tls_cert", str(pki["server"]["cert"]))
    assert "--tls_cert and --tls_key must be given together" in err
    err = start_fails(tmp_path, "--tls_client_ca", str(pki["ca"]))
    assert "--tls_client_ca needs TLS" in err
    assert "'basic' is not an authentication mode" in start_fails(tmp_path, "--auth", "basic")
    # A key where the certificate belongs: named by flag and file, content never shown.
    err = start_fails(tmp_path, "--tls_cert", str(tmp_path / "missing.pem"), "--tls_key",
                      str(pki["server"]["key"]))
    assert "--tls_cert: the PEM file" in err and "cannot be read" in err
    key_text = pki["server"]["key"].read_text()
    bad = tmp_path / "not-pem.txt"
    bad.write_text("just text")
    err = start_fails(tmp_path, *tls_flags(pki)[:2], "--tls_key", str(bad))
    assert "--tls_key: '" in err and "holds no PEM block" in err
    assert key_text.splitlines()[1] not in err


@pytest.mark.parametrize("mistake", ["raw token", "typo key"])
def test_a_bad_tenants_file_is_refused_without_echoing_secrets(tmp_path, mistake):
    token = new_token()
    tenants = tmp_path / "tenants.json"
    key = "token_sha256" if mistake == "raw token" else "tokens"
    tenants.write_text(f'{{"tenants": [{{"name": "acme", "{key}": ["{token}"]}}]}}')
    err = start_fails(tmp_path, "--auth", "token", "--tenants_file", str(tenants))
    assert f"tenants file '{tenants}'" in err
    assert "tenants[0]." in err
    assert token not in err
