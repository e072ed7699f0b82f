#!/usr/bin/env python3
"""Fault soak benchmark: the full-size tests/integration/load/fault_soak.py.

Starts darwin-sim and labelport-server, makes about 30% of the responses of every V7 endpoint
and of the signed upload/download URLs fail (500, 429 with Retry-After, dropped connections,
truncated and malformed bodies: fault_soak.FAULT_MIX), uploads N samples with one box each and
loads them back (fault_soak.run_soak, which also checks that every sample was uploaded once,
every label loaded, and that no item or annotation is duplicated), and prints:
  * samples, upload and load seconds,
  * requests the sim saw, and the faults it injected by kind,
  * the server's RSS (VmRSS, and the peak VmHWM) after the load,
  * the command to reproduce.
Not a test (test_fault_soak.py runs 40 samples in every test run); run it by hand:

  bash .ci/build labelport_server darwin_sim
  source .ci/env && python tests/bench/fault_soak/bench_fault_soak.py --count 500
"""

from __future__ import annotations

import argparse
import collections
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from load.conftest import start_server  # noqa: E402
from load.fault_soak import FAULT_MIX, run_soak  # noqa: E402
from upload.support import Sim  # noqa: E402


def proc_status(pid: int) -> dict:
    """VmRSS and VmHWM of a process, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=500, help="samples to upload and load")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per phase")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-fault-soak-"))
    sim = Sim(work / "sim")
    server = start_server(sim, work / "data")
    started = time.monotonic()
    try:
        result = run_soak(sim, server, work / "tmp", count=args.count, timeout=args.timeout)
        rss = proc_status(server.proc.pid)
        # Faults by kind, the status ones by the status they answered.
        by_kind = collections.Counter(
            f"{r['fault']} {r['status']}" if r["fault"] == "status" else r["fault"]
            for r in sim.requests() if r["fault"])
    finally:
        code = server.stop()
        sim.stop()
    wall = time.monotonic() - started
    if code != 0:
        print(f"labelport-server exited with {code} on SIGTERM")
        return 1

    faults = sum(result.faulted.values())
    mix = ", ".join(f"{action} {extra.get('status', '')} {p:.0%}".replace("  ", " ")
                    for action, extra, p in FAULT_MIX)
    print(f"labelport fault soak: {result.samples} samples, fault mix per request: {mix}")
    print(f"  upload (CreateRun -> ANNOTATING): {result.upload_seconds:8.1f} s")
    print(f"  load (LoadAnnotations):            {result.load_seconds:8.1f} s")
    print(f"  wall, set-up included:             {wall:8.1f} s")
    print(f"  requests seen by the sim:          {result.requests:8d}")
    print(f"  faults injected:                   {faults:8d} "
          f"({faults / max(1, result.requests):.1%} of the requests)")
    for kind, n in sorted(by_kind.items()):
        print(f"    {kind:10s} {n:6d}")
    print(f"  server RSS after the load:         {rss.get('VmRSS', 0):8.1f} MiB "
          f"(peak {rss.get('VmHWM', 0):.1f} MiB)")
    print("  checks passed: every sample uploaded once, every label loaded, no duplicates")
    print("reproduce: source .ci/env && python tests/bench/fault_soak/bench_fault_soak.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
