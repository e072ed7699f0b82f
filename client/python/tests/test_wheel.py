"""The Python client as an installable package: `pip wheel` builds a wheel from
client/python/pyproject.toml; it installs into a fresh virtualenv, whose `labelport` command
and `import labelport` then talk to a real labelport-server.

Offline: the wheel is built without build isolation (setuptools from the shared virtualenv)
and installed with `--no-index --find-links` the wheel's directory. The fresh virtualenv sees
the already installed dependencies (grpcio, protobuf, grpcio-status) through a .pth file
naming the shared virtualenv's site-packages, so pip resolves the wheel's requirements
against them without downloading anything. PYTHONPATH is cleared and the working directory is
outside the checkout, so nothing is imported from client/python.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLIENT = REPO / "client" / "python"


def _isolated_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("PIP_")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=_isolated_env(), capture_output=True,
                         text=True, timeout=300, **kwargs)
    assert out.returncode == 0, f"{args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


def test_wheel_installs_into_a_fresh_venv_and_connects(tmp_path: Path, server):
    # Built from a copy: setuptools writes build/ and *.egg-info beside pyproject.toml.
    source = tmp_path / "src"
    shutil.copytree(CLIENT, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", "*.pyc"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--wheel-dir", wheels, source], cwd=tmp_path)
    [wheel] = wheels.glob("labelport-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # The generated stubs and the FiftyOne backend are in the wheel; the tests are not.
    for wanted in ("labelport/__init__.py", "labelport/client.py", "labelport/__main__.py",
                   "labelport/py.typed", "labelport/v1/annotation_service_pb2.pyi",
                   "labelport/v1/annotation_service_pb2.py",
                   "labelport/v1/annotation_service_pb2_grpc.py", "labelport/fiftyone/__init__.py",
                   "labelport/fiftyone/backend.py"):
        assert wanted in names, f"{wanted} missing from {wheel.name}"

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    fresh_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           cwd=tmp_path).stdout.strip())
    (fresh_site / "shared-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([python, "-m", "pip", "install", "--no-index", "--find-links", wheels, "labelport"],
         cwd=tmp_path)
    _run([python, "-m", "pip", "check"], cwd=tmp_path)

    # `import labelport` comes from the fresh venv, and the client reaches the server.
    script = (
        "import json, labelport\n"
        "from labelport.v1 import annotation_service_pb2 as svc\n"
        f"c = labelport.Client({server.target!r}, timeout=30)\n"
        "c.wait_for_ready()\n"
        "runs = c.stub.ListRuns(svc.ListRunsRequest(parent='datasets/wheel_ds')).runs\n"
        "print(json.dumps({'file': labelport.__file__, 'version': labelport.__version__, "
        "'runs': len(runs)}))\n"
    )
    out = json.loads(_run([python, "-c", script], cwd=tmp_path).stdout)
    assert out["file"].startswith(str(fresh_site)), out
    assert out == {"file": out["file"], "version": "0.1.0", "runs": 0}

    # The console script of [project.scripts].
    cli = _run([env_dir / "bin" / "labelport", "--target", server.target, "--json", "list",
                "wheel_ds"], cwd=tmp_path)
    assert json.loads(cli.stdout) == [], cli.stdout
