"""`cmake --install` of the built tree installs the product and nothing else: bin/labelport-server
(runnable), no darwin-sim, test or benchmark binary, static library or header."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("LP_BUILD", str(REPO / "build")))


def test_install_yields_the_server_binary_only(tmp_path: Path):
    prefix = tmp_path / "prefix"
    out = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    installed = sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*") if p.is_file())
    assert installed == ["bin/labelport-server"]
    server = prefix / "bin" / "labelport-server"
    assert os.access(server, os.X_OK)
    help_text = subprocess.run([str(server), "--help"], capture_output=True, text=True,
                               timeout=60, check=False)
    assert help_text.returncode == 0, help_text.stderr
    assert "LABELPORT_LISTEN" in help_text.stdout + help_text.stderr
