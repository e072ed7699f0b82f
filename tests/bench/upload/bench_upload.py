#!/usr/bin/env python3
"""Upload benchmark: labelport-server annotating N images against darwin-sim.

Starts darwin-sim (with --latency_ms) and labelport-server (with
--darwin_rate_limit_per_minute), creates one run of N local images with one existing
detection each (or N external-storage images with --mode storage), waits for ANNOTATING, and
prints:
  * samples/s (CreateRun → ANNOTATING),
  * V7 API calls per sample, from the sim's request log (signed upload PUTs excluded: they are
    not V7 API calls), also per endpoint, and the calls before label import,
  * the ratio of the wall time to the floor the rate limit implies (calls / rate),
  * the command to reproduce.

Targets: local uploads ≤ 2 V7 calls per sample (sign, confirm) + 1 per sample with labels + a
small constant; external storage well under 0.1 calls per sample before label import; wall
time within 1.2x of the rate-limit floor (below it once the burst counts: short runs spend
V7's per-minute budget at once).

  source .ci/env && python tests/bench/upload/bench_upload.py --count 2000
  source .ci/env && python tests/bench/upload/bench_upload.py --v7 --count 200 1000
"""

from __future__ import annotations

import argparse
import collections
import re
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

V7_RATE = 1000  # V7's documented limit per API key and minute

ID = re.compile(r"(?<=/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/|$)")


def endpoint(r: dict) -> str:
    return f"{r['method']} {ID.sub('{id}', r['path'])}"


def run_once(args, count: int) -> dict:
    """One benchmark run of `count` images; returns its numbers (and prints them)."""
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    sim_args = ["--latency_ms", str(args.latency_ms)]
    if args.v7:
        sim_args += ["--rate_limit_per_minute", str(V7_RATE)]
    sim = Sim(work / "sim", sim_args)
    flags = [*sim.server_flags(work / "data"), "--log_level", "warning"]
    if not args.v7:
        flags += ["--darwin_rate_limit_per_minute", str(args.rate),
                  "--upload_concurrency", str(args.upload_concurrency),
                  "--import_concurrency", str(args.import_concurrency),
                  "--darwin_max_connections", str(args.darwin_max_connections)]
    if args.burst is not None:
        flags += ["--darwin_rate_burst", str(args.burst)]
    rate = V7_RATE if args.v7 else args.rate
    # The server's burst: the flag, else its default (95% of a minute's worth of the rate).
    burst = args.burst if args.burst else max(1, rate - rate // 20)
    server = ServerProcess(work / "data", flags)
    try:
        samples = []
        with_labels = int(count * args.labels)
        if args.mode == "storage":
            sim.add_storage("bench", work / "bucket")
        for k in range(count):
            if args.mode == "storage":
                make_image(work / "bucket" / f"b{k}.png", color=(k % 256, 0, 0))
                ref = media(storage=("bench", f"b{k}.png"))
            else:
                ref = media(path=make_image(work / "img" / f"i{k}.png", color=(k % 256, 0, 0)))
            fields = {}
            if k < with_labels:
                fields["gt"] = detections(detection("car", [0.25, 0.25, 0.5, 0.5]))
            samples.append(image_sample(f"b{k:05d}", ref, **fields))
        hdr = header("bench", [field_schema("gt", "detections", ["car"])], slug="bench",
                     existing=[("gt", "Detections")])
        sim.control("DELETE", "/_sim/requests")
        start = time.monotonic()
        run = create_run(server.stub, hdr, samples, batch=1000)
        final = wait_run(server.stub, run.name, timeout=args.timeout)
        wall = time.monotonic() - start
        if state_name(final) != "RUN_STATE_ANNOTATING" or final.progress.samples_failed:
            print(f"run ended {state_name(final)}: {final.failure_reason} "
                  f"{list(final.sample_errors)[:3]}")
            return {}
        log = sim.requests()
    finally:
        server.stop()
        sim.stop()

    api = [r for r in log if r["path"].startswith("/api/")]
    puts = [r for r in log if r["path"].startswith("/_upload/")]
    before_import = [r for r in api if not r["path"].endswith("/import")]
    by_endpoint = collections.Counter(endpoint(r) for r in api)
    floor = len(api) / (rate / 60)
    # What the token bucket itself allows: `burst` calls at once, the rest at the rate.
    bucket_floor = max(0, len(api) - burst) / (rate / 60)
    throttled = sum(r["status"] == 429 for r in api)
    n = count
    settings = ("the server's default flags, darwin-sim enforcing V7's 1,000 calls/minute"
                if args.v7 else
                f"upload concurrency {args.upload_concurrency}, "
                f"import concurrency {args.import_concurrency}")
    print(f"labelport upload benchmark: {n} images ({args.mode}), {with_labels} with labels, "
          f"rate limit {rate}/min (burst {burst}), sim latency {args.latency_ms} ms, {settings}")
    print(f"  wall time                 {wall:8.2f} s  (CreateRun → ANNOTATING)")
    print(f"  samples/s                 {n / wall:8.1f}")
    print(f"  V7 API calls              {len(api):8d}  ({len(api) / n:.3f} per sample; "
          f"signed PUTs excluded: {len(puts)})")
    print(f"  calls before label import {len(before_import):8d}  "
          f"({len(before_import) / n:.3f} per sample)")
    print(f"  rate-limit floor          {floor:8.2f} s  (calls / rate)")
    print(f"  wall / floor              {wall / floor:8.2f}")
    print(f"  bucket floor              {bucket_floor:8.2f} s  ((calls - burst) / rate)")
    if bucket_floor > 0:
        print(f"  wall / bucket floor       {wall / bucket_floor:8.2f}")
    print(f"  429 answers               {throttled:8d}")
    print("  calls per endpoint:")
    for name, c in by_endpoint.most_common():
        print(f"    {c:6d}  {name}")
    return {"count": n, "calls": len(api), "wall": wall, "floor": floor,
            "bucket_floor": bucket_floor, "throttled": throttled}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, nargs="+", default=[2000],
                    help="images to annotate (several: one run each)")
    ap.add_argument("--rate", type=int, default=6000, help="V7 calls per minute (the server's)")
    ap.add_argument("--burst", type=int, default=None,
                    help="the server's --darwin_rate_burst (default: its default)")
    ap.add_argument("--v7", action="store_true",
                    help="V7's limits with the server's default flags: darwin-sim enforces "
                         "1,000 calls/minute per key (a bucket of 1,000), and the server gets "
                         "no rate or concurrency flags (nor a burst unless --burst)")
    ap.add_argument("--latency_ms", type=int, default=50, help="sim latency per V7 call")
    ap.add_argument("--mode", choices=["local", "storage"], default="local")
    ap.add_argument("--labels", type=float, default=1.0,
                    help="fraction of samples with an existing detection")
    ap.add_argument("--upload_concurrency", type=int, default=16)
    ap.add_argument("--import_concurrency", type=int, default=8)
    ap.add_argument("--darwin_max_connections", type=int, default=16,
                    help="the server's keep-alive connections per V7 host")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()

    results = [run_once(args, count) for count in args.count]
    if not all(results):
        return 1
    if len(results) > 1:
        print("images  V7 calls    wall   floor  wall/floor  bucket floor  wall/bucket  429s")
        for r in results:
            ratio = (f"{r['wall'] / r['bucket_floor']:11.2f}" if r["bucket_floor"] > 0
                     else f"{'-':>11}")
            print(f"{r['count']:6d}  {r['calls']:8d}  {r['wall']:6.1f}  {r['floor']:6.1f}  "
                  f"{r['wall'] / r['floor']:10.2f}  {r['bucket_floor']:12.1f}  {ratio}  "
                  f"{r['throttled']:4d}")
    print("reproduce: source .ci/env && python tests/bench/upload/bench_upload.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
