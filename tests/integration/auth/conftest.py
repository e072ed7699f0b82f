"""Fixtures of the authentication tests: certificates made with `openssl` at test time, tenants
files, and labelport-server processes with --auth=token|mtls (optionally TLS).

`auth_server(tenants, args=(), credentials=None, listen="127.0.0.1:0", media_root="/")` starts
a server on the tenants file `tenants` (a `TenantsFile`); at teardown every server must exit 0
on SIGTERM and its log must not contain any secret the test registered with `tenants.secrets`.
"""

from __future__ import annotations

from typing import Optional, Sequence

import grpc
import pytest
from server.certs import openssl
from server.conftest import ServerProcess

from .support import TenantsFile


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> dict:
    """A test CA; a server certificate for 127.0.0.1/localhost; client certificates with CN
    acme-ci, beta-ci, stranger (all signed by the CA), one whose only mapped identity is a DNS
    SAN, and one signed by another CA."""
    d = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        openssl(d, *args)

    def ca(name: str, cn: str) -> None:
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.pem", "-days", "2", "-subj", f"/CN={cn}")

    def cert(name: str, cn: str, ext: str, issuer: str = "ca") -> None:
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={cn}")
        (d / f"{name}.ext").write_text(ext)
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey",
            f"{issuer}.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.ext")

    ca("ca", "labelport auth test CA")
    ca("other_ca", "some other CA")
    cert("server", "127.0.0.1",
         "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
         "extendedKeyUsage=serverAuth\n")
    client_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    for name in ("acme-ci", "beta-ci", "stranger"):
        cert(name, name, client_ext)
    cert("san-client", "unmapped-cn", client_ext + "subjectAltName=DNS:acme.internal\n")
    cert("foreign", "acme-ci", client_ext, issuer="other_ca")
    return {name: {"cert": d / f"{name}.pem", "key": d / f"{name}.key"}
            for name in ("server", "acme-ci", "beta-ci", "stranger", "san-client", "foreign")} | {
        "ca": d / "ca.pem", "other_ca": d / "other_ca.pem"}


def client_credentials(pki: dict, client: Optional[str] = None,
                       root: str = "ca") -> grpc.ChannelCredentials:
    """TLS channel credentials trusting `root`, with `client`'s certificate when given."""
    kwargs = {"root_certificates": pki[root].read_bytes()}
    if client is not None:
        kwargs["private_key"] = pki[client]["key"].read_bytes()
        kwargs["certificate_chain"] = pki[client]["cert"].read_bytes()
    return grpc.ssl_channel_credentials(**kwargs)


def tls_flags(pki: dict, client_ca: bool = False) -> list:
    flags = ["--tls_cert", str(pki["server"]["cert"]), "--tls_key", str(pki["server"]["key"])]
    if client_ca:
        flags += ["--tls_client_ca", str(pki["ca"])]
    return flags


@pytest.fixture
def tenants(tmp_path) -> TenantsFile:
    return TenantsFile(tmp_path / "secrets" / "tenants.json")


@pytest.fixture
def auth_server(tmp_path_factory):
    started: list = []

    def factory(tenants: TenantsFile, args: Sequence[str] = (), auth: str = "token",
                credentials: Optional[grpc.ChannelCredentials] = None,
                listen: str = "127.0.0.1:0", media_root: Optional[str] = "/") -> ServerProcess:
        """`media_root`: the --media_root of every tenant. With authentication there is none
        by default; these tests' samples name placeholder paths (server.helpers), so "/" unless
        a test is about media roots (None: no --media_root)."""
        data_dir = tmp_path_factory.mktemp("data")
        flags = ["--auth", auth, "--tenants_file", str(tenants.path), "--log_level", "debug",
                 *(["--media_root", media_root] if media_root else []), *args]
        server = ServerProcess(data_dir, flags, listen=listen, credentials=credentials)
        started.append((server, tenants))
        return server

    yield factory
    failures = []
    for server, tenants in started:
        if server.returncode is None and server.proc.returncode is None:
            code = server.stop()
            if code != 0:
                failures.append(f"exit code {code} after SIGTERM; {server.stderr()}")
        log = server._stderr_path.read_text(errors="replace")
        for secret in tenants.secrets:
            if secret in log:
                failures.append(f"a secret ({secret[:3]}...) appears in the server's log")
    assert not failures, failures
