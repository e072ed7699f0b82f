"""bazel-compat/: its BUILD.bazel must follow proto/labelport/v1 (drift is caught here).

Bazel with bzlmod is not available here, so BUILD.bazel and MODULE.bazel are parsed (Starlark
BUILD files are Python syntax) and compared with the imports, services and go_package of the
.proto files. bazel-compat/smoke/bazel4-smoke.sh builds the proto and C++ targets with Debian's
Bazel 4 where it is installed; it is not part of this test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / "bazel-compat"
PROTO_DIR = REPO / "proto" / "labelport" / "v1"
PROTOS = sorted(PROTO_DIR.glob("*.proto"))
IMPORT_PREFIX = "labelport/v1/"
WKT = re.compile(r"^google/protobuf/(\w+)\.proto$")
# google/api/<name>.proto: the BCR module googleapis (MODULE.bazel).
GOOGLE_API = re.compile(r"^google/api/(\w+)\.proto$")
RULE_LOADS = {
    "proto_library": "@rules_proto//proto:defs.bzl",
    "cc_proto_library": "@protobuf//bazel:cc_proto_library.bzl",
    "py_proto_library": "@protobuf//bazel:py_proto_library.bzl",
    "cc_grpc_library": "@grpc//bazel:cc_grpc_library.bzl",
    "py_grpc_library": "@grpc//bazel:python_rules.bzl",
    "go_proto_library": "@rules_go//proto:def.bzl",
}


def calls(path: Path) -> list[tuple[str, dict]]:
    """Top-level calls of a Starlark file as (function, {keyword: literal value})."""
    found = []
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
            args = [ast.literal_eval(a) for a in call.args]
            if args:
                kwargs["_args"] = args
            found.append((call.func.id, kwargs))
    return found


def targets(rule: str) -> dict[str, dict]:
    return {kw["name"]: kw for fn, kw in calls(COMPAT / "BUILD.bazel") if fn == rule}


def target_of(proto_file: str) -> str:
    """":labels_proto" for "labelport/v1/labels.proto"."""
    return ":" + Path(proto_file).stem + "_proto"


def parse_proto(path: Path) -> dict:
    text = re.sub(r"//[^\n]*", "", path.read_text())
    return {
        "imports": re.findall(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', text, re.M),
        "has_service": bool(re.search(r"^\s*service\s+\w+\s*\{", text, re.M)),
        "go_package": re.search(r'option\s+go_package\s*=\s*"([^";]+)', text).group(1),
    }


def expected_deps(path: Path) -> set[str]:
    deps = set()
    for imported in parse_proto(path)["imports"]:
        if imported.startswith(IMPORT_PREFIX):
            assert (PROTO_DIR / imported[len(IMPORT_PREFIX):]).exists(), imported
            deps.add(target_of(imported))
        elif m := WKT.match(imported):
            deps.add(f"@protobuf//:{m.group(1)}_proto")
        elif m := GOOGLE_API.match(imported):
            deps.add(f"@googleapis//google/api:{m.group(1)}_proto")
        else:
            pytest.fail(f"{path.name} imports {imported}: add its Bazel target to this test")
    return deps


def test_there_are_protos():
    assert len(PROTOS) >= 5


def test_symlink_reaches_the_protos():
    link = COMPAT / "labelport"
    assert link.is_symlink() and Path(link.readlink()) == Path("../proto/labelport")
    assert (link / "v1").resolve() == PROTO_DIR.resolve()
    # A BUILD file under proto/ would start another package and break the labels.
    assert not [p for p in (REPO / "proto").rglob("BUILD*")], "BUILD file under proto/"


def test_every_proto_has_one_proto_library_with_deps_from_its_imports():
    libraries = targets("proto_library")
    by_src: dict[str, str] = {}
    for name, kw in libraries.items():
        for src in kw.get("srcs", []):
            assert src not in by_src, f"{src} in {by_src.get(src)} and {name}"
            by_src[src] = name
    wanted = {IMPORT_PREFIX + p.name for p in PROTOS}
    assert set(by_src) == wanted, "proto_library srcs differ from proto/labelport/v1/*.proto"
    for path in PROTOS:
        src = IMPORT_PREFIX + path.name
        name = by_src[src]
        assert ":" + name == target_of(src), f"{src}: target should be {target_of(src)}"
        kw = libraries[name]
        assert kw["srcs"] == [src], f"{name}: one file per proto_library"
        assert set(kw.get("deps", [])) == expected_deps(path), f"{name}: deps != imports"
        assert len(kw.get("deps", [])) == len(set(kw.get("deps", []))), f"{name}: duplicate dep"


def test_aggregate_and_language_targets_cover_every_file():
    every = {target_of(IMPORT_PREFIX + p.name) for p in PROTOS}
    libraries = targets("proto_library")
    aggregate = libraries["labelport_v1_proto"]
    assert "srcs" not in aggregate and set(aggregate["deps"]) == every

    (cc,) = targets("cc_proto_library").values()
    assert cc["deps"] == [":labelport_v1_proto"]
    (py,) = targets("py_proto_library").values()
    assert py["deps"] == [":labelport_v1_proto"]

    services = {target_of(IMPORT_PREFIX + p.name) for p in PROTOS if parse_proto(p)["has_service"]}
    assert services, "no .proto declares a service"
    cc_grpc = targets("cc_grpc_library")
    assert {s for kw in cc_grpc.values() for s in kw["srcs"]} == services
    for kw in cc_grpc.values():
        assert len(kw["srcs"]) == 1 and kw["grpc_only"] is True
        assert kw["deps"] == [":" + cc["name"]]
    py_grpc = targets("py_grpc_library")
    assert {s for kw in py_grpc.values() for s in kw["srcs"]} == services
    for kw in py_grpc.values():
        assert kw["deps"] == [":" + py["name"]]

    (go,) = targets("go_proto_library").values()
    assert set(go["protos"]) == every
    go_packages = {parse_proto(p)["go_package"].split(";")[0] for p in PROTOS}
    assert go_packages == {go["importpath"]}
    assert "@rules_go//proto:go_proto" in go["compilers"]
    assert "@rules_go//proto:go_grpc_v2" in go["compilers"]


def test_loads_cover_the_rules_used():
    loaded: dict[str, str] = {}
    used = set()
    for fn, kw in calls(COMPAT / "BUILD.bazel"):
        if fn == "load":
            for symbol in kw["_args"][1:]:
                loaded[symbol] = kw["_args"][0]
        elif fn != "package":
            used.add(fn)
    assert used == set(RULE_LOADS), f"rules used: {sorted(used)}"
    for rule, bzl in RULE_LOADS.items():
        assert loaded.get(rule) == bzl, f"{rule} should be loaded from {bzl}"


def test_module_declares_the_dependencies_with_versions():
    module = calls(COMPAT / "MODULE.bazel")
    (header,) = [kw for fn, kw in module if fn == "module"]
    assert header["name"] == "labelport_protos" and header["version"]
    deps = {kw["name"]: kw["version"] for fn, kw in module if fn == "bazel_dep"}
    for name in ("rules_proto", "protobuf", "grpc", "rules_go", "rules_python"):
        assert re.match(r"^\d+(\.\d+)*$", deps.get(name, "")), f"bazel_dep {name} without version"
    # googleapis has date-based BCR versions, e.g. 0.0.0-20241220-5e258e33.bcr.1.
    assert re.match(r"^0\.0\.0-\d{8}-[0-9a-f]+(\.bcr\.\d+)?$", deps.get("googleapis", "")), (
        "bazel_dep googleapis without version")
    # Every repository the BUILD file loads from is a declared dependency.
    repos = {bzl.split("//")[0].lstrip("@") for bzl in RULE_LOADS.values()}
    assert repos <= set(deps)
