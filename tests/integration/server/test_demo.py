"""`make demo` runs client/python/examples/run_management_demo.py; keep it working."""

from __future__ import annotations

import subprocess
import sys

from labelport.v1 import annotation_service_pb2 as svc

from .conftest import REPO

DEMO = REPO / "client/python/examples/run_management_demo.py"


def test_run_management_demo_runs_to_the_end(server):
    result = subprocess.run(
        [sys.executable, str(DEMO), "--target", server.target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().splitlines()[-1] == "demo finished"
    assert "state:        RUN_STATE_PENDING" in out
    assert "ground_truth: type=detections, existing field" in out
    assert "now datasets/demo/runs/reviewed_run" in out
    assert "reason INVALID_RUN_KEY, domain labelport.dev" in out
    # The demo cleans up after itself.
    runs = server.stub.ListRuns(svc.ListRunsRequest(parent="datasets/demo"), timeout=10).runs
    assert list(runs) == []
