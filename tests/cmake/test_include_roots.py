"""The build enforces the layers of .ci/layers.toml: no unit of service/ gets the project root as an
include directory, and each sees only the include roots (build/include/<library>, the generated
proto directories, libpq's headers) of its own layer and the layers below it. Read from the built
tree's compile_commands.json ($LP_BUILD)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("LP_BUILD", str(REPO / "build"))).resolve()


def load_checker():
    loader = importlib.machinery.SourceFileLoader("check_layers", str(REPO / ".ci" / "check-layers"))
    spec = importlib.util.spec_from_loader("check_layers", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_layers"] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


def include_dirs(entry: dict) -> list[Path]:
    args = entry.get("arguments") or shlex.split(entry["command"])
    dirs = []
    for i, arg in enumerate(args):
        for flag in ("-I", "-isystem", "-iquote"):
            if arg == flag and i + 1 < len(args):
                dirs.append(args[i + 1])
            elif arg.startswith(flag) and len(arg) > len(flag) and flag != "-isystem":
                dirs.append(arg[len(flag):])
    return [(Path(entry["directory"]) / d).resolve(strict=False) if not os.path.isabs(d)
            else Path(d) for d in dirs]


def test_each_unit_sees_only_its_layer_and_the_layers_below():
    checker = load_checker()
    layers, _ = checker.load_config(REPO / ".ci" / "layers.toml")
    by_name = {layer.name: layer for layer in layers}
    units = json.loads((BUILD / "compile_commands.json").read_text())
    # What each generated directory holds, as a layer of the table.
    generated = {BUILD / "proto" / "messages": "proto", BUILD / "proto" / "grpc_stubs": "grpc_proto",
                 BUILD / "proto" / "grpc_services": "grpc_services_proto",
                 BUILD / "proto" / "descriptor_set": "descriptor_set",
                 Path("/usr/include/postgresql"): "store"}
    checked = 0
    problems = []
    for entry in units:
        rel = os.path.relpath(entry["file"], REPO)
        if not rel.startswith("service/"):
            continue
        own = checker.layer_of(rel, layers, generated=False)
        assert own is not None, rel
        checked += 1
        for directory in include_dirs(entry):
            if directory in (REPO, REPO / "service"):
                problems.append(f"{rel}: the project root {directory} is an include directory")
                continue
            seen = set()
            if directory.parent == BUILD / "include":
                # An include root: its links name the directories and headers it exposes.
                for link in directory.rglob("*"):
                    if link.is_symlink():
                        layer = checker.layer_of(link.relative_to(directory).as_posix() + "/x.h"
                                                 if link.is_dir() else
                                                 link.relative_to(directory).as_posix(),
                                                 layers, generated=False)
                        seen.add(layer.name if layer else f"?{link}")
            elif directory in generated:
                seen.add(generated[directory])
            for name in seen:
                if name not in own.allowed:
                    problems.append(f"{rel} (layer {own.name}) sees layer {name} via {directory}")
    assert checked > 50, f"only {checked} units of service/ in {BUILD}/compile_commands.json"
    assert not problems, "\n".join(problems)
    assert by_name["core"].allowed >= {"store", "backend", "common", "proto"}
