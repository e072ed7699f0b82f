"""deploy/Dockerfile: lint rules (tests/deploy/dockerfile_lint.py) and its runtime packages.

No container engine runs here, so the image is not built by the tests; these checks are what
is verified about it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
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
    # Without the tests: neither tests/ nor its packages are in the build.
    assert "-DLP_BUILD_TESTS=OFF" in runs
    copied = [i.args.split()[0] for i in builder.instructions if i.keyword == "COPY"]
    assert copied == ["CMakeLists.txt", "proto/", "service/"], copied
    for package in ("libgtest-dev", "libgmock-dev", "libbenchmark-dev", "libavformat-dev"):
        assert package not in runs, f"the builder installs the test-only {package}"
    ignore = (REPO / "deploy" / "Dockerfile.dockerignore").read_text().split()
    assert "!tests/" not in ignore and "!deploy/docker-entrypoint.sh" in ignore


def test_builder_configures_from_exactly_what_it_copies(tmp_path):
    """The builder's cmake configure step, on a copy of only CMakeLists.txt, proto/ and
    service/ with LP_BUILD_TESTS=OFF: it succeeds, has the server target and asks for no
    test-only package (GoogleTest)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "CMakeLists.txt", src)
    for directory in ("proto", "service"):
        shutil.copytree(REPO / directory, src / directory)
    build = tmp_path / "build"
    out = subprocess.run(
        ["cmake", "-S", str(src), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
         "-DLP_BUILD_TESTS=OFF"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    targets = subprocess.run(["ninja", "-C", str(build), "-t", "targets", "all"],
                             capture_output=True, text=True, check=True).stdout
    assert "service/server/labelport-server:" in targets
    assert "darwin-sim" not in targets and "_test:" not in targets
    assert "GTest_DIR" not in (build / "CMakeCache.txt").read_text()


def test_image_has_oci_labels():
    final = dockerfile_lint.parse(dockerfile_text())[-1]
    labels = {}
    for instruction in final.instructions:
        if instruction.keyword == "LABEL":
            for pair in shlex.split(instruction.args.replace("\\\n", " ")):
                key, _, value = pair.partition("=")
                labels[key] = value
    for key in ("title", "description", "version", "revision", "created", "base.name"):
        assert labels.get(f"org.opencontainers.image.{key}"), f"no OCI label {key}: {labels}"
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert labels["org.opencontainers.image.base.name"].endswith(final.image)


def test_base_images_are_pinned_by_tag_and_the_missing_digest_is_explained():
    """No digest is invented: the tags are exact point releases, and the header says why no
    digest is pinned here and how to pin one."""
    text = dockerfile_text()
    for stage in dockerfile_lint.parse(text):
        assert re.match(r"^debian:12\.\d+(-slim)?$", stage.image), stage.image
    assert "@sha256:" not in text.replace("@sha256:<digest>", "")
    assert "NOT by digest" in text and "imagetools inspect" in text


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
        # tests/ only (GoogleTest, benchmarks, darwin-sim's FFmpeg): the image configures with
        # -DLP_BUILD_TESTS=OFF
        "libgtest-dev", "libgmock-dev", "libbenchmark-dev",
        "libavformat-dev", "libavcodec-dev", "libavutil-dev",
        # the sanitizer and fuzz builds (.ci/sanitize), never the image's
        "clang-14", "libclang-rt-14-dev",
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


ENTRYPOINT_SCRIPT = REPO / "deploy" / "docker-entrypoint.sh"
IMAGE_ENV = {"LABELPORT_LISTEN": "0.0.0.0:50051", "LABELPORT_DATA_DIR": "/var/lib/labelport"}


def run_entrypoint(tmp_path, args=(), env=None, server=None):
    """Runs docker-entrypoint.sh as the image would (its ENV), with a stand-in server that
    prints its arguments, unless `server` names a real binary."""
    if server is None:
        server = tmp_path / "fake-server"
        server.write_text('#!/bin/sh\necho "server:$*"\n')
        server.chmod(0o755)
    full_env = {"PATH": "/usr/bin:/bin", "LP_SERVER_BINARY": str(server), **IMAGE_ENV, **(env or {})}
    return subprocess.run(["sh", str(ENTRYPOINT_SCRIPT), *args], capture_output=True, text=True,
                          env=full_env, timeout=30)


def test_entrypoint_is_the_image_entrypoint():
    text = dockerfile_text()
    assert 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' in text
    assert "COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" in text
    env = dockerfile_lint.final_stage_env(text)
    assert {k: env[k] for k in IMAGE_ENV} == IMAGE_ENV
    assert "LABELPORT_AUTH" not in env  # the server's default: none


def test_bare_docker_run_explains_the_missing_authentication_in_one_line(tmp_path):
    out = run_entrypoint(tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    for hint in ("0.0.0.0:50051", "LABELPORT_AUTH=token", "LABELPORT_TENANTS_FILE",
                 "--allow_insecure_remote"):
        assert hint in lines[0]


@pytest.mark.parametrize(("args", "env"), [
    ((), {"LABELPORT_AUTH": "token", "LABELPORT_TENANTS_FILE": "/etc/t.json"}),
    ((), {"LABELPORT_AUTH": "mtls"}),
    ((), {"LABELPORT_ALLOW_INSECURE_REMOTE": "true"}),
    (("--allow_insecure_remote",), {}),
    (("--auth=token", "--tenants_file", "/etc/t.json"), {}),
    (("--listen", "127.0.0.1:50051"), {}),
    (("--help",), {}),
    ((), {"LABELPORT_LISTEN": "127.0.0.1:50051"}),
])
def test_entrypoint_hands_everything_else_to_the_server(tmp_path, args, env):
    out = run_entrypoint(tmp_path, args, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"server:{' '.join(args)}\n"


def test_entrypoint_starts_the_real_server(tmp_path):
    assert SERVER.exists(), f"{SERVER} is not built: run `bash .ci/build labelport_server`"
    out = run_entrypoint(tmp_path, ["--help"], server=SERVER)
    assert out.returncode == 0 and "LABELPORT_AUTH" in out.stdout, out.stderr
    # With a flag the server checks itself (here: token auth without a tenants file).
    out = run_entrypoint(tmp_path, ["--auth=token"], server=SERVER,
                         env={"LABELPORT_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 2 and "--tenants_file" in out.stderr, out.stderr
