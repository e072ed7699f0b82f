"""`make demo` runs client/python/examples/v7_recipe_demo.py against darwin-sim and
labelport-server; this runs it against the test fixtures and checks what it reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from labelport.v1 import annotation_service_pb2 as svc

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "client/python/examples/v7_recipe_demo.py"


def test_v7_recipe_demo(sim, server, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO / "client/python")}
    result = subprocess.run(
        [sys.executable, str(DEMO), "--target", server.target, "--sim_url", sim.url,
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, env=env)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    lines = out.rstrip().splitlines()
    assert lines[-1] == "demo finished"
    # Step 2 picks the four images with high-confidence false positives, both 0001.png files.
    assert "== Step 3: send 4 samples to V7 (anno_key 'v7_basic_recipe')" in out
    assert "  ANNOTATING  uploaded 4/4, labels imported 11/11" in out
    assert "  field ground_truth: detections (existing), classes: car, person, tree" in out
    assert "  field scene: classification (new), classes: urban, nature, coast" in out
    assert "  field regions: segmentation (existing), classes: car, person, tree" in out
    # What the annotator did comes back per field, with the uploaded ids kept on edits.
    assert "  ground_truth: 1 added, 3 edited, 1 deleted, 3 unchanged, 0 ignored" in out
    assert "  scene: 4 added, 0 edited, 0 deleted, 0 unchanged, 0 ignored" in out
    assert ("    - city/0001.png: deleted car [118,88 30x20px] "
            "(id 00000000000000000066a003)") in out
    assert ("    ~ park/0001.png: edited 'tree' -> 'person' "
            "(id kept: 00000000000000000066a008)") in out
    assert ("    ~ street/0002.png: edited car [50,40 80x45px] -> car [60,50 60x30px] "
            "(id kept: 00000000000000000066a00b)") in out
    assert "    + street/0002.png: added car [10,10 30x20px] (id " in out
    assert "    + beach/0003.png: added 'coast' (id " in out
    # The annotator's brush strokes in the `regions` mask: 600 pixels painted car, 800 erased.
    assert "  regions: 0 added, 1 edited, 0 deleted, 3 unchanged, 0 ignored" in out
    assert ("    ~ street/0002.png: mask edited, 1400 pixels changed "
            "(id kept: 00000000000000000077b002)") in out
    # The picture of the changed images exists where the demo says.
    (line,) = [x for x in lines if x.startswith("before/after picture of the 4 changed images: ")]
    picture = line.rsplit(": ", 1)[1]
    assert picture == str(tmp_path / "out" / "before_after.png")
    with Image.open(picture) as image:
        assert image.size[0] > 600 and image.size[1] > 4 * 240
    # Step 6 cleaned up V7 and removed the run record.
    assert "dataset deleted: yes" in out
    runs = server.stub.ListRuns(svc.ListRunsRequest(parent="datasets/v7-annotation-example"),
                                timeout=10).runs
    assert list(runs) == []
    assert all(d["archived"] or not d["items"] for t in sim.state()["teams"]
               for d in t["datasets"] if d["slug"] == "v7_basic_recipe")


def _demo_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELPORT_", "FIFTYONE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _closed(url_or_target: str) -> bool:
    import socket

    host, port = url_or_target.rsplit("/", 1)[-1].rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, int(port))) != 0


def test_make_demo_script_runs_and_stops_everything():
    """`.ci/demo` (what `make demo` runs) ends with the demo's last line and leaves nothing
    running: the sim and the server ports are closed and the temp dir is gone."""
    result = subprocess.run(["bash", str(REPO / ".ci/demo")], capture_output=True, text=True,
                            timeout=1200, env=_demo_env(), stdin=subprocess.DEVNULL)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert out.rstrip().splitlines()[-1] == "demo finished"
    sim_url = out.split("demo: darwin-sim (team labelport-demo) at ", 1)[1].split()[0]
    line = out.split("demo: labelport-server listening on ", 1)[1].splitlines()[0]
    target, data_dir = line.split(" (data dir ")
    assert _closed(sim_url) and _closed(target)
    assert not Path(data_dir.rstrip(")")).parent.exists()
    picture = out.split("changed images: ", 1)[1].splitlines()[0]
    assert Path(picture).is_file()
    import shutil

    shutil.rmtree(Path(picture).parent, ignore_errors=True)


def test_make_demo_script_stops_everything_on_ctrl_c():
    import signal
    import time

    proc = subprocess.Popen(["bash", str(REPO / ".ci/demo")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_demo_env(),
                            stdin=subprocess.DEVNULL, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 1200
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("== Step 3") or time.monotonic() > deadline:
                break
        assert any(x.startswith("== Step 3") for x in lines), "".join(lines)[-3000:]
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = "".join(lines) + rest
    assert proc.returncode == 130, out[-3000:]
    sim_url = out.split("demo: darwin-sim (team labelport-demo) at ", 1)[1].split()[0]
    line = out.split("demo: labelport-server listening on ", 1)[1].splitlines()[0]
    target, data_dir = line.split(" (data dir ")
    assert _closed(sim_url) and _closed(target)
    assert not Path(data_dir.rstrip(")")).parent.exists()
