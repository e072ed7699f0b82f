"""`python -m labelport` against a real labelport-server and darwin-sim."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from labelport.samples import image_sample, media_from_file
from labelport.v1 import annotation_run_pb2 as run_pb

REPO = Path(__file__).resolve().parents[3]

DATASET = "cli"


def cli(server, *args, check=True):
    env = {**os.environ, "PYTHONPATH": str(REPO / "client/python")}
    env.pop("LABELPORT_TARGET", None)
    result = subprocess.run([sys.executable, "-m", "labelport", "--target", server.target, *args],
                            capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def make_run(client, tmp_path, key, slug=""):
    path = tmp_path / f"{key}.png"
    Image.new("RGB", (32, 24), (10, 20, 30)).save(path)
    samples = [image_sample(f"{7:024x}", media_from_file(client, path), width=32, height=24)]
    return client.create_run(DATASET, key, samples, label_field="boxes", label_type="detections",
                             classes=["car"], dataset_slug=slug)


def test_cli_run_management(server, client, sim, tmp_path):
    run = make_run(client, tmp_path, "first", slug="cli-first")
    make_run(client, tmp_path, "second")

    out = cli(server, "watch", f"{DATASET}/first").stdout
    assert out.splitlines()[-1].startswith("ANNOTATING  samples 1/1 done")
    client.wait_until_settled(f"datasets/{DATASET}/runs/second", timeout=60)

    out = cli(server, "list", DATASET).stdout.splitlines()
    assert out[0].split() == ["KEY", "STATE", "SAMPLES", "SLUG"]
    assert out[1].split() == ["first", "ANNOTATING", "1", "cli-first"]
    assert out[2].split()[:3] == ["second", "ANNOTATING", "1"]
    listed = json.loads(cli(server, "--json", "list", DATASET, "--slug", "cli-first").stdout)
    assert [r["anno_key"] for r in listed] == ["first"]
    assert json.loads(cli(server, "--json", "list", DATASET, "--state", "failed").stdout) == []

    out = cli(server, "show", run.name).stdout
    assert f"name:          {run.name}" in out
    assert "state:         ANNOTATING" in out
    assert "  boxes: detections (new); classes: car" in out
    assert json.loads(cli(server, "--json", "show", run.name).stdout)["uid"] == run.uid

    assert cli(server, "status", run.name).stdout == "new: 1\ntotal: 1\n"

    assert cli(server, "rename", f"{DATASET}/first", "third").stdout == (
        f"renamed to datasets/{DATASET}/runs/third\n")
    out = cli(server, "cleanup", f"{DATASET}/third").stdout
    assert out.startswith(f"datasets/{DATASET}/runs/third: CLEANED_UP; ")
    assert client.get_run(f"datasets/{DATASET}/runs/third").state == run_pb.RUN_STATE_CLEANED_UP

    assert cli(server, "delete", f"{DATASET}/third").stdout == (
        f"deleted datasets/{DATASET}/runs/third\n")
    assert [r.anno_key for r in client.list_runs(DATASET)] == ["second"]


def test_cli_errors(server, client, sim):
    result = cli(server, "show", f"{DATASET}/missing", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: NOT_FOUND: ")
    result = cli(server, "resume", f"{DATASET}/missing", check=False)
    assert result.returncode == 1
    result = cli(server, "show", "not-a-run", check=False)
    assert result.returncode == 2
    assert "is not a run" in result.stderr
    result = cli(server, "list", DATASET, "--state", "sleeping", check=False)
    assert result.returncode == 2
