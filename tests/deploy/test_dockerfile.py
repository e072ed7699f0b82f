"""deploy/Dockerfile: lint rules (tests/deploy/dockerfile_lint.py) and its runtime packages.

No container engine runs here, so the image is not built by the tests; these checks are what
is verified about it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from . import dockerfile_lint

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
SERVER = Path(os.environ.get("LP_BUILD", str(REPO / "build"))) / "service/server/labelport-server"

# In debian:bookworm-slim already (libc, the GCC runtime); everything else the binary links
# must be installed explicitly by the runtime stage.
IN_SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6"}


def dockerfile_text() -> str:
    return DOCKERFILE.read_text()


def test_dockerfile_passes_every_rule():
    assert dockerfile_lint.lint(dockerfile_text()) == []


def test_builder_stage_builds_only_the_server_with_cmake_and_ninja():
    stages = dockerfile_lint.parse(dockerfile_text())
    builder = stages[0]
    assert builder.name == "builder"
    assert re.match(r"^debian:12\.\d+$", builder.image), builder.image
    runs = " ".join(i.args for i in builder.instructions if i.keyword == "RUN")
    assert "-G Ninja" in runs
    assert "--target labelport_server" in runs
    assert "ninja-build" in runs and "cmake" in runs


def test_build_packages_match_ci_setup():
    """The builder installs the Debian build packages .ci/setup lists (minus dev-only tools)."""
    setup = (REPO / ".ci" / "setup").read_text()
    block = re.search(r"apt_packages=\((.*?)\)", setup, re.S)
    assert block, ".ci/setup no longer has an apt_packages=(...) list"
    wanted = set(block.group(1).split())
    not_for_the_image = {
        "ccache", "git", "clang-format", "clang-tidy", "python3-venv", "openssl", "sqlite3",
        # test-time tools: the throwaway PostgreSQL cluster and test videos
        "postgresql", "ffmpeg",
    }
    builder_runs = " ".join(
        i.args for i in dockerfile_lint.parse(dockerfile_text())[0].instructions
        if i.keyword == "RUN"
    )
    builder_packages = set(dockerfile_lint._apt_packages(builder_runs))
    missing = sorted(wanted - not_for_the_image - builder_packages)
    assert not missing, (
        f"deploy/Dockerfile's builder lacks packages of .ci/setup: {missing}; install them "
        "there, or add them to not_for_the_image here if the C++ build does not need them"
    )


def _binary_packages(binary: Path) -> set[str]:
    """Debian packages owning the shared libraries `ldd` resolves for `binary`."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libraries = sorted(set(re.findall(r"=>\s+(/\S+)", out)))
    candidates: dict[str, list[str]] = {}
    for path in libraries:
        paths = [path, os.path.realpath(path)]  # /lib is a symlink to /usr/lib (merged /usr)
        paths += ["/usr" + p for p in list(paths) if not p.startswith("/usr/")]
        candidates[path] = paths
    every_path = sorted({p for paths in candidates.values() for p in paths})
    # One dpkg call; paths no package owns are reported on stderr and left out.
    found = subprocess.run(["dpkg", "-S", *every_path], capture_output=True, text=True).stdout
    owner: dict[str, str] = {}
    for line in found.splitlines():
        package, _, owned = line.partition(": ")
        owner[owned.strip()] = package.split(":", 1)[0].strip()
    packages: set[str] = set()
    for path, paths in candidates.items():
        owners = [owner[p] for p in paths if p in owner]
        assert owners, f"no Debian package owns {path} (ldd {binary})"
        packages.add(owners[0])
    return packages


def test_runtime_stage_installs_exactly_the_libraries_the_server_links():
    assert SERVER.exists(), f"{SERVER} is not built: run `bash .ci/build labelport_server`"
    needed = _binary_packages(SERVER) - IN_SLIM_BASE
    installed = set(dockerfile_lint.runtime_packages(dockerfile_text()))
    assert needed - installed == set(), "runtime stage lacks libraries the binary links"
    extra = installed - needed - {"ca-certificates"}
    assert extra == set(), f"runtime stage installs packages the binary does not link: {extra}"
    assert "ca-certificates" in installed  # HTTPS to V7


def test_runtime_environment_matches_the_server_flags():
    env = dockerfile_lint.final_stage_env(dockerfile_text())
    assert env["LABELPORT_LISTEN"].endswith(":" + dockerfile_lint.GRPC_PORT)
    assert env["LABELPORT_DATA_DIR"] == "/var/lib/labelport"
    assert f'VOLUME ["{env["LABELPORT_DATA_DIR"]}"]' in dockerfile_text()


GOOD = """\
FROM debian:12.12 AS builder
RUN apt-get update && apt-get install -y --no-install-recommends cmake \\
 && rm -rf /var/lib/apt/lists/*
FROM debian:12.12-slim
COPY --from=builder /b /usr/local/bin/b
VOLUME ["/data"]
USER 10001:10001
EXPOSE 50051
# No HEALTHCHECK: gRPC only.
ENTRYPOINT ["/usr/local/bin/b"]
"""


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (lambda t: t.replace("debian:12.12 AS", "debian AS"), "DF001"),
        (lambda t: t.replace("debian:12.12 AS", "debian:latest AS"), "DF001"),
        (lambda t: t.split("FROM debian:12.12-slim\n")[0].replace(" AS builder", "")
         + "USER 10001\nEXPOSE 50051\nVOLUME /d\n# No HEALTHCHECK: x\nENTRYPOINT [\"/b\"]\n",
         "DF002"),
        (lambda t: t.replace("debian:12.12-slim", "debian:12.12"), "DF002"),
        (lambda t: t.replace("USER 10001:10001\n", ""), "DF003"),
        (lambda t: t.replace("USER 10001:10001", "USER root"), "DF003"),
        (lambda t: t.replace("USER 10001:10001", "USER 0"), "DF003"),
        (lambda t: t.replace("VOLUME", "ADD https://example.com/x.tgz /x\nVOLUME"), "DF004"),
        (lambda t: t.replace("# No HEALTHCHECK: gRPC only.\n", ""), "DF005"),
        (lambda t: t.replace(" --no-install-recommends", ""), "DF006"),
        (lambda t: t.replace(" \\\n && rm -rf /var/lib/apt/lists/*", ""), "DF006"),
        (lambda t: t.replace("apt-get update && ", ""), "DF006"),
        (lambda t: t.replace('ENTRYPOINT ["/usr/local/bin/b"]', "ENTRYPOINT /usr/local/bin/b"),
         "DF007"),
        (lambda t: t.replace("EXPOSE 50051", "EXPOSE 8080"), "DF008"),
        (lambda t: t.replace('VOLUME ["/data"]\n', ""), "DF009"),
        (lambda t: t.replace("VOLUME", "ENV DARWIN_API_KEY=abc\nVOLUME"), "DF010"),
        (lambda t: t.replace("VOLUME", "RUN curl -fsSL https://x | sh\nVOLUME"), "DF011"),
        (lambda t: t.replace("--from=builder", "--from=build"), "DF012"),
        (lambda t: t.replace("VOLUME", "RUN apt-get update && apt-get install -y "
                             "--no-install-recommends libssl-dev && rm -rf /var/lib/apt/lists/*"
                             "\nVOLUME"), "DF013"),
    ],
)
def test_checker_catches_each_rule(edit, rule):
    assert dockerfile_lint.lint(GOOD) == []
    problems = dockerfile_lint.lint(edit(GOOD))
    assert any(p.startswith(rule) for p in problems), problems
