#!/usr/bin/env python3
"""Soak benchmark: many uploads in a row on one labelport-server, watching its memory and files.

Starts darwin-sim (no rate limit, with --latency_ms) and one labelport-server (a rate limit so
high it never waits), then runs R uploads of N images in a row (default 10 × 1,000; each run its
own V7 dataset, every sample with one existing detection, CreateRun → ANNOTATING). After each
run it prints the run's time and the server's resident memory (VmRSS of /proc/<pid>/status)
and open file descriptors (entries of /proc/<pid>/fd), and the same for darwin-sim. At the end
it says whether the server stayed flat: its descriptor count after the last run within
--fd_slack of the count after the first, and its VmRSS after the last run within --rss_slack
(a fraction) of the VmRSS after the second (the first run warms caches and pools). Exits 1 on a
failed run, a crash, or growth beyond the slack. Not a test; run it by hand:

  bash .ci/build labelport_server darwin_sim
  source .ci/env && python tests/bench/soak/bench_soak.py --runs 10 --count 1000
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from server.conftest import ServerProcess  # noqa: E402
from upload.support import (  # noqa: E402
    Sim, create_run, detection, detections, field_schema, header, image_sample, make_image, media,
    state_name, wait_run,
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="uploads in a row")
    ap.add_argument("--count", type=int, default=1000, help="images per upload")
    ap.add_argument("--latency_ms", type=int, default=5, help="sim latency per response")
    ap.add_argument("--rate", type=int, default=10_000_000,
                    help="the server's V7 calls per minute (default: never waits)")
    ap.add_argument("--fd_slack", type=int, default=8,
                    help="descriptors the server may gain from the first run to the last")
    ap.add_argument("--rss_slack", type=float, default=0.25,
                    help="VmRSS growth allowed from the second run to the last (fraction)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    sim = Sim(work / "sim", ["--latency_ms", str(args.latency_ms)])
    server = ServerProcess(work / "data", [
        *sim.server_flags(work / "data"), "--darwin_rate_limit_per_minute", str(args.rate),
        "--log_level", "warning"])
    pid = server.proc.pid
    images = [make_image(work / "img" / f"i{k}.png", color=(k % 256, (k // 256) % 256, 0))
              for k in range(args.count)]
    rows = []
    failed = ""
    print(f"labelport soak: {args.runs} uploads of {args.count} images in a row, "
          f"sim latency {args.latency_ms} ms, no rate limit")
    print(f"  before: server VmRSS {rss_mib(pid):7.1f} MiB, {open_fds(pid)} fds; "
          f"sim VmRSS {rss_mib(sim.proc.pid):7.1f} MiB")
    print("  run  seconds  samples/s  server VmRSS MiB  server fds  sim VmRSS MiB  sim fds")
    try:
        for r in range(args.runs):
            samples = [image_sample(f"s{k:05d}", media(path=images[k]),
                                    gt=detections(detection("car", [0.25, 0.25, 0.5, 0.5])))
                       for k in range(args.count)]
            hdr = header(f"soak{r}", [field_schema("gt", "detections", ["car"])],
                         slug=f"soak-{r}", existing=[("gt", "Detections")])
            start = time.monotonic()
            run = create_run(server.stub, hdr, samples, batch=1000)
            final = wait_run(server.stub, run.name, timeout=args.timeout)
            seconds = time.monotonic() - start
            if server.proc.poll() is not None:
                failed = f"the server exited with {server.proc.returncode} during run {r}"
                break
            if state_name(final) != "RUN_STATE_ANNOTATING" or final.progress.samples_failed:
                failed = (f"run {r} ended {state_name(final)}: {final.failure_reason} "
                          f"{list(final.sample_errors)[:3]}")
                break
            row = (r + 1, seconds, args.count / seconds, rss_mib(pid), open_fds(pid),
                   rss_mib(sim.proc.pid), open_fds(sim.proc.pid))
            rows.append(row)
            print("  {:3d}  {:7.1f}  {:9.1f}  {:16.1f}  {:10d}  {:13.1f}  {:7d}".format(*row),
                  flush=True)
    finally:
        code = server.stop()
        sim.stop()
    if failed:
        print(f"FAILED: {failed}")
        return 1
    if code != 0:
        print(f"FAILED: labelport-server exited with {code} on SIGTERM")
        return 1
    fd_growth = rows[-1][4] - rows[0][4]
    base = rows[1][3] if len(rows) > 1 else rows[0][3]
    rss_growth = (rows[-1][3] - base) / base
    flat = fd_growth <= args.fd_slack and rss_growth <= args.rss_slack
    print(f"  server fds: {rows[0][4]} after run 1, {rows[-1][4]} after run {len(rows)} "
          f"(growth {fd_growth:+d}, slack {args.fd_slack})")
    print(f"  server VmRSS: {base:.1f} MiB after run {min(2, len(rows))}, {rows[-1][3]:.1f} MiB "
          f"after run {len(rows)} ({rss_growth:+.1%}, slack {args.rss_slack:.0%})")
    print(f"  {'flat' if flat else 'NOT FLAT'}; SIGTERM exit code {code}")
    print("reproduce: source .ci/env && python tests/bench/soak/bench_soak.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
