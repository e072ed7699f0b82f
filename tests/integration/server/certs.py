"""Throwaway TLS material for the integration tests, made with openssl: a test CA and a server
certificate it signs."""

from __future__ import annotations

import subprocess
from pathlib import Path


def openssl(directory: Path, *args: str) -> None:
    """Runs `openssl args...` in `directory`; raises if it fails."""
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)


def make_server_certificate(directory: Path, ca_name: str, *, common_name: str = "127.0.0.1",
                            extensions: str = "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            "basicConstraints=CA:FALSE\n"
                            "keyUsage=digitalSignature,keyEncipherment\n"
                            "extendedKeyUsage=serverAuth\n",
                            ca_file: str = "ca.pem", cert_file: str = "server.pem",
                            key_file: str = "server.key") -> dict[str, Path]:
    """Writes a CA named `ca_name` (`ca_file`, its key ca.key) and a server certificate for
    `common_name` with the X.509 `extensions` (`cert_file`, `key_file`) into `directory`, valid
    for two days. Returns {"ca", "cert", "key"}: the paths of the three files."""
    openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", ca_file, "-days", "2", "-subj", f"/CN={ca_name}")
    openssl(directory, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key_file, "-out",
            "server.csr", "-subj", f"/CN={common_name}")
    (directory / "san.ext").write_text(extensions)
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", ca_file, "-CAkey", "ca.key",
            "-CAcreateserial", "-out", cert_file, "-days", "2", "-extfile", "san.ext")
    return {"ca": directory / ca_file, "cert": directory / cert_file, "key": directory / key_file}
