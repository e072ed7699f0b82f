#!/usr/bin/env python3
"""Stalled-readers benchmark: does a LoadAnnotations client that never reads slow other work?

Starts darwin-sim (with --latency_ms) and labelport-server with its default two I/O threads,
creates a "crowded" run (default 300 samples with 200 detections each: a load of it streams
about 9 MB, more than gRPC's buffers and the server's message queue hold), then times the same
upload (CreateRun → ANNOTATING of N images) twice in one process pair:

  1. alone;
  2. while two LoadAnnotations streams of the crowded run are open and never read (their loads
     have downloaded the export and filled their queues).

Prints both wall times and their ratio (stalled / alone). Before issue 15 the loads' producers
blocked an I/O thread each on a condition variable, so with two I/O threads the second upload
never finished (printed as "did not finish within ...").

  source .ci/env && python tests/bench/stalled_readers/bench_stalled_readers.py
  # --images N (default 100), --latency_ms N (default 20), --samples N --boxes N (crowded run),
  # --io_threads N (server flag, default: the server's default 2), --timeout S (per upload)
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from labelport.v1 import annotation_service_pb2 as svc  # noqa: E402
from load.support import crowded_run  # noqa: E402
from server.conftest import ServerProcess  # noqa: E402
from upload.support import (  # noqa: E402
    Sim, create_run, detection, detections, field_schema, header, image_sample, make_image, media,
    state_name, wait_run,
)


def upload(server: ServerProcess, work: Path, tag: str, images: int, timeout: float):
    """Uploads `images` images with one detection each; returns the wall time, or None when
    the run did not reach ANNOTATING within `timeout` seconds."""
    samples = []
    for k in range(images):
        path = make_image(work / tag / f"img{k}.png",
                          color=(k % 250, 7 if tag == "alone" else 9, 11))
        samples.append(image_sample(f"{tag}{k}", media(path=path),
                                    gt=detections(detection("car", [0.1, 0.1, 0.2, 0.2]))))
    hdr = header(f"upload_{tag}", [field_schema("gt", "detections", ["car"])],
                 slug=f"bench-{tag}", existing=[("gt", "Detections")])
    started = time.monotonic()
    run = create_run(server.stub, hdr, samples)
    try:
        run = wait_run(server.stub, run.name, timeout=timeout)
    except AssertionError:
        return None
    assert state_name(run) == "RUN_STATE_ANNOTATING", run
    return time.monotonic() - started


def export_deletes(sim: Sim) -> int:
    return len([r for r in sim.api_requests()
                if r["method"] == "DELETE" and "/exports" in r["path"]])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=100, help="images per timed upload")
    p.add_argument("--latency_ms", type=int, default=20, help="darwin-sim's added latency")
    p.add_argument("--samples", type=int, default=300, help="samples of the crowded run")
    p.add_argument("--boxes", type=int, default=200, help="detections per crowded sample")
    p.add_argument("--io_threads", type=int, default=None, help="the server's --io_threads")
    p.add_argument("--timeout", type=float, default=120, help="seconds per timed upload")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-stalled-"))
    sim = Sim(work / "sim", ["--latency_ms", str(args.latency_ms)])
    flags = [*sim.server_flags(work / "data"), "--darwin_rate_limit_per_minute", "60000",
             "--log_level", "warning"]
    if args.io_threads is not None:
        flags += ["--io_threads", str(args.io_threads)]
    server = ServerProcess(work / "data", flags)
    stalled = []
    try:
        print(f"setup: crowded run of {args.samples} samples x {args.boxes} detections ...",
              flush=True)
        crowded = crowded_run(sim, server.stub, work / "crowded", args.samples, args.boxes)

        alone = upload(server, work, "alone", args.images, args.timeout)
        print(f"upload of {args.images} images alone: "
              f"{'%.2f s' % alone if alone is not None else 'did not finish'}", flush=True)

        sim.control("DELETE", "/_sim/requests")
        stalled = [server.stub.LoadAnnotations(svc.LoadAnnotationsRequest(name=crowded.name),
                                               timeout=args.timeout * 3) for _ in range(2)]
        deadline = time.monotonic() + 60
        while export_deletes(sim) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the stalled loads did not download their exports in 60 s")
            time.sleep(0.05)
        time.sleep(1)  # parsing the downloads fills the queues (well under a second)

        with_stalled = upload(server, work, "stalled", args.images, args.timeout)
        print(f"upload of {args.images} images with 2 stalled LoadAnnotations readers: "
              f"{'%.2f s' % with_stalled if with_stalled is not None else 'did not finish within %.0f s' % args.timeout}",
              flush=True)
        if alone is not None and with_stalled is not None:
            print(f"ratio (stalled / alone): {with_stalled / alone:.2f}")
        else:
            print("ratio (stalled / alone): n/a")
        cmd = "python tests/bench/stalled_readers/bench_stalled_readers.py " + shlex.join(
            sys.argv[1:])
        print(f"reproduce: source .ci/env && {cmd.strip()}")
        return 0 if with_stalled is not None else 1
    finally:
        for call in stalled:
            call.cancel()
        server.stop()
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
