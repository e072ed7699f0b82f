"""CMakeLists.txt: -O2 is only the default of CMAKE_CXX_FLAGS_RELEASE; a value the user passes,
on the first configure or a later one, is kept (it used to be overwritten with CACHE FORCE).
Configures a copy of what the container build copies (CMakeLists.txt, proto/, service/) with
LP_BUILD_TESTS=OFF, a few seconds each."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    shutil.copy(REPO / "CMakeLists.txt", src)
    for directory in ("proto", "service"):
        shutil.copytree(REPO / directory, src / directory)
    return src


def configure(source: Path, build: Path, *options: str) -> str:
    """Configures and returns the cached CMAKE_CXX_FLAGS_RELEASE."""
    out = subprocess.run(
        ["cmake", "-S", str(source), "-B", str(build), "-G", "Ninja", "-DLP_BUILD_TESTS=OFF",
         *options],
        capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    cache = (build / "CMakeCache.txt").read_text()
    return re.search(r"^CMAKE_CXX_FLAGS_RELEASE:STRING=(.*)$", cache, re.M).group(1)


def test_default_release_flags_are_o2(source: Path, tmp_path: Path):
    assert configure(source, tmp_path / "b") == "-O2 -DNDEBUG"
    # A reconfigure keeps them.
    assert configure(source, tmp_path / "b") == "-O2 -DNDEBUG"


def test_release_flags_given_on_the_first_configure_are_kept(source: Path, tmp_path: Path):
    build = tmp_path / "b"
    assert configure(source, build, "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG") == "-O1 -DNDEBUG"
    assert configure(source, build) == "-O1 -DNDEBUG"
    commands = subprocess.run(["ninja", "-C", str(build), "-t", "commands", "labelport_server"],
                              capture_output=True, text=True, check=True).stdout
    assert " -O1 -DNDEBUG " in commands and " -O2 " not in commands


def test_release_flags_given_on_a_later_configure_are_kept(source: Path, tmp_path: Path):
    build = tmp_path / "b"
    assert configure(source, build) == "-O2 -DNDEBUG"
    assert configure(source, build, "-DCMAKE_CXX_FLAGS_RELEASE=-O3 -g") == "-O3 -g"
    assert configure(source, build) == "-O3 -g"
