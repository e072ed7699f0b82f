""".ci/check-layers: the layer table of .ci/layers.toml holds for the tree, and the checker fails,
naming file, line, header and rule, when a layer includes a layer above it or a third-party
library outside its layer (run on throwaway trees with the repository's real table)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO / ".ci" / "check-layers"


def run(root: Path, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECKER), "--root", str(root), *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A minimal clean tree: the real table, a file per layer that includes what it may."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "layers.toml", tmp_path / ".ci" / "layers.toml")
    files = {
        "service/common/sha256.cc": '#include "service/common/sha256.h"\n#include <openssl/evp.h>\n',
        "service/common/sha256.h": "#include <string>\n",
        "service/store/run_store.h": '#include "service/common/sha256.h"\n'
        '#include "labelport/v1/annotation_run.pb.h"\n',
        "service/store/sqlite_run_store.cc": "#include <sqlite3.h>\n",
        "service/backend/annotation_backend.h": '#include "labelport/v1/sample.pb.h"\n',
        "service/core/run_registry.h": '#include "service/store/run_store.h"\n'
        '#include "service/backend/annotation_backend.h"\n',
        "service/api/handler.cc": '#include "service/core/run_registry.h"\n'
        '#include <grpcpp/grpcpp.h>\n#include "labelport/v1/annotation_service.grpc.pb.h"\n',
        "tests/darwin_sim/http_server.cc": '#include "boost/beast/http.hpp"\n#include "ids.h"\n',
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def add(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_repository_follows_its_layer_table():
    result = run(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 violations" in result.stdout


def test_a_clean_tree_passes(tree: Path):
    result = run(tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_layer_including_a_layer_above_it_fails(tree: Path):
    add(tree, "service/core/run_worker.cc",
        '#include "service/core/run_registry.h"\n\n#include "service/api/handler.h"\n')
    result = run(tree)
    assert result.returncode == 1
    assert ('service/core/run_worker.cc:3 includes "service/api/handler.h" '
            "(layer core may not include layer api)") in result.stdout


def test_a_layer_including_a_sibling_it_does_not_depend_on_fails(tree: Path):
    add(tree, "service/store/bad.cc", '#include "service/backend/annotation_backend.h"\n')
    add(tree, "service/http/bad.cc", '#include "labelport/v1/sample.pb.h"\n')
    result = run(tree)
    assert result.returncode == 1
    assert ('service/store/bad.cc:1 includes "service/backend/annotation_backend.h" '
            "(layer store may not include layer backend)") in result.stdout
    assert ('service/http/bad.cc:1 includes "labelport/v1/sample.pb.h" '
            "(layer http may not include layer proto)") in result.stdout


def test_grpc_outside_api_and_server_fails(tree: Path):
    add(tree, "service/core/stub_user.cc",
        '#include <grpcpp/server_context.h>\n#include "labelport/v1/annotation_service.grpc.pb.h"\n')
    result = run(tree)
    assert result.returncode == 1
    out = result.stdout
    assert ("service/core/stub_user.cc:1 includes <grpcpp/server_context.h> (layer core may not "
            "include gRPC: only api, grpc_proto, grpc_services_proto, reflection, server may)") in out
    assert ('service/core/stub_user.cc:2 includes "labelport/v1/annotation_service.grpc.pb.h" '
            "(layer core may not include layer grpc_proto)") in out


@pytest.mark.parametrize(
    "rel, header, library",
    [
        ("service/core/x.cc", "<boost/beast/http.hpp>", "Boost.Beast"),
        ("service/backend/darwin/x.cc", "<openssl/rand.h>", "OpenSSL"),
        ("service/core/y.h", "<libpq-fe.h>", "libpq"),
        ("service/api/z.cc", "<sqlite3.h>", "SQLite"),
        ("service/server/w.cc", "<prometheus/registry.h>", "prometheus-cpp"),
    ],
)
def test_third_party_headers_outside_their_layer_fail(tree: Path, rel: str, header: str,
                                                      library: str):
    add(tree, rel, f"#include {header}\n")
    result = run(tree)
    assert result.returncode == 1
    layer = "darwin" if "/darwin/" in rel else rel.split("/")[1]
    assert f"{rel}:1 includes {header} (layer {layer} may not include {library}: only " in (
        result.stdout)


def test_darwin_sim_may_not_include_the_service(tree: Path):
    add(tree, "tests/darwin_sim/bad.cc", '#include "service/common/sha256.h"\n')
    result = run(tree)
    assert result.returncode == 1
    assert ('tests/darwin_sim/bad.cc:1 includes "service/common/sha256.h" '
            "(layer darwin_sim may not include layer common)") in result.stdout


def test_a_file_of_no_layer_fails(tree: Path):
    add(tree, "service/newlayer/thing.cc", "#include <string>\n")
    result = run(tree)
    assert result.returncode == 1
    assert "service/newlayer/thing.cc: belongs to no layer of layers.toml" in result.stdout


def test_an_exception_that_excuses_nothing_fails(tree: Path):
    (tree / "service/common/sha256.cc").write_text('#include "service/common/sha256.h"\n')
    result = run(tree)
    assert result.returncode == 1
    assert "the OpenSSL exception for service/common/sha256.cc" in result.stdout
    assert "excuses nothing any more" in result.stdout


def test_a_cycle_in_the_table_is_a_configuration_error(tree: Path):
    table = tree / ".ci" / "layers.toml"
    table.write_text(table.read_text().replace(
        '[layers.common]\npaths = ["service/common/*"]\ndeps = []',
        '[layers.common]\npaths = ["service/common/*"]\ndeps = ["core"]'))
    result = run(tree)
    assert result.returncode == 2
    assert "cycle: common -> core -> store -> common" in result.stderr
