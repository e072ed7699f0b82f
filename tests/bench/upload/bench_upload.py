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
time within 1.2x of the rate-limit floor.

  source .ci/env && python tests/bench/upload/bench_upload.py --count 2000
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
    Sim,
    create_run,
    detection,
    detections,
    field_schema,
    header,
    image_sample,
    make_image,
    media,
    state_name,
    wait_run,
)

ID = re.compile(r"(?<=/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)(?=/|$)")


def endpoint(r: dict) -> str:
    return f"{r['method']} {ID.sub('{id}', r['path'])}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="images to annotate")
    ap.add_argument("--rate", type=int, default=6000, help="V7 calls per minute (both sides)")
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

    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    sim = Sim(work / "sim", ["--latency_ms", str(args.latency_ms)])
    key_file = work / "v7key"
    key_file.write_text(sim.api_key)
    server = ServerProcess(work / "data", [
        "--darwin_url", sim.url, "--darwin_api_key_file", str(key_file),
        "--darwin_rate_limit_per_minute", str(args.rate),
        "--upload_concurrency", str(args.upload_concurrency),
        "--import_concurrency", str(args.import_concurrency),
        "--darwin_max_connections", str(args.darwin_max_connections), "--log_level", "warning"])
    try:
        samples = []
        with_labels = int(args.count * args.labels)
        if args.mode == "storage":
            sim.add_storage("bench", work / "bucket")
        for k in range(args.count):
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
            return 1
        log = sim.requests()
    finally:
        server.stop()
        sim.stop()

    api = [r for r in log if r["path"].startswith("/api/")]
    puts = [r for r in log if r["path"].startswith("/_upload/")]
    before_import = [r for r in api if not r["path"].endswith("/import")]
    by_endpoint = collections.Counter(endpoint(r) for r in api)
    floor = len(api) / (args.rate / 60)
    n = args.count
    print(f"labelport upload benchmark: {n} images ({args.mode}), {with_labels} with labels, "
          f"rate limit {args.rate}/min, sim latency {args.latency_ms} ms, "
          f"upload concurrency {args.upload_concurrency}, "
          f"import concurrency {args.import_concurrency}")
    print(f"  wall time                 {wall:8.2f} s  (CreateRun → ANNOTATING)")
    print(f"  samples/s                 {n / wall:8.1f}")
    print(f"  V7 API calls              {len(api):8d}  ({len(api) / n:.3f} per sample; "
          f"signed PUTs excluded: {len(puts)})")
    print(f"  calls before label import {len(before_import):8d}  "
          f"({len(before_import) / n:.3f} per sample)")
    print(f"  rate-limit floor          {floor:8.2f} s  (calls / rate)")
    print(f"  wall / floor              {wall / floor:8.2f}")
    print(f"  429 answers               {sum(r['status'] == 429 for r in api):8d}")
    print("  calls per endpoint:")
    for name, count in by_endpoint.most_common():
        print(f"    {count:6d}  {name}")
    print("reproduce: source .ci/env && python tests/bench/upload/bench_upload.py "
          + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
