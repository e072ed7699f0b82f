#!/usr/bin/env python3
"""CreateRun benchmark: memory and store size of streaming N small samples into one run.

For each size (default 1,000, 10,000, 100,000 and 1,000,000 samples) starts a fresh
labelport-server (SQLite store in a temporary data dir, no V7 key, so no upload starts and the
run stays PENDING), streams one CreateRun of that many small image samples in batches of 1,000
(generated on the fly: the client holds one batch), and prints:
  * the wall time of the call and the samples/s it implies,
  * the server's peak RSS: VmHWM of /proc/<pid>/status after the call (the process's peak,
    start-up included) and its RSS before the call,
  * the store size: the SQLite file plus its WAL, in bytes per sample too,
  * the command to reproduce.

The server spools every batch to the store as it arrives, so its memory must stay flat as
the run grows. Not a test; run it by hand:

  bash .ci/build labelport_server
  source .ci/env && python tests/bench/create_run/bench_create_run.py
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from labelport.v1 import annotation_service_pb2 as svc  # noqa: E402
from labelport.v1 import labels_pb2 as labels  # noqa: E402
from labelport.v1 import sample_pb2 as sample  # noqa: E402
from server.conftest import ServerProcess  # noqa: E402
from server.processes import proc_status_kib  # noqa: E402
from server.helpers import header, run_name  # noqa: E402

BATCH = 1000


def requests(count: int, with_labels: bool):
    """The CreateRun stream: the header, then batches generated one at a time."""
    yield svc.CreateRunRequest(header=header("bench"))
    for start in range(0, count, BATCH):
        batch = svc.SampleBatch()
        for i in range(start, min(count, start + BATCH)):
            s = batch.samples.add(
                id=f"s{i:07d}", media_type=sample.MEDIA_TYPE_IMAGE, width=640, height=480)
            s.media.path = f"/data/images/{i:07d}.jpg"
            if with_labels:
                s.fields.add(field="ground_truth").value.detections.detections.append(
                    labels.Detection(id=f"{i:024x}", label="cat",
                                     bounding_box=[0.1, 0.2, 0.3, 0.4]))
        yield svc.CreateRunRequest(samples=batch)


def store_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("labelport.db*") if p.is_file())


def measure(count: int, with_labels: bool, work: Path) -> dict:
    data_dir = work / f"data-{count}"
    server = ServerProcess(data_dir)
    try:
        pid = server.proc.pid
        rss_before = proc_status_kib(pid, "VmRSS")
        start = time.monotonic()
        response = server.stub.CreateRun(requests(count, with_labels), timeout=3600)
        wall = time.monotonic() - start
        peak = proc_status_kib(pid, "VmHWM")
        assert response.created and response.run.progress.samples_total == count, response
        last = server.stub.ListRunSamples(
            svc.ListRunSamplesRequest(name=run_name("bench"), page_size=1,
                                      page_token=""), timeout=60)
        assert last.sample_ids[0] == "s0000000"
        size = store_bytes(data_dir)
    finally:
        server.stop()
    return {"count": count, "wall": wall, "rss_before": rss_before, "peak": peak, "store": size}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000",
                    help="comma-separated sample counts, one fresh server each")
    ap.add_argument("--labels", action="store_true",
                    help="give every sample one existing detection")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-create-run-"))
    print(f"CreateRun of N small samples{' with one detection each' if args.labels else ''}, "
          f"batches of {BATCH}, fresh server per size")
    print(f"{'samples':>10} {'wall s':>8} {'samples/s':>10} {'RSS before MiB':>15} "
          f"{'peak RSS MiB':>13} {'store MiB':>10} {'store B/sample':>15}")
    for count in sizes:
        r = measure(count, args.labels, work)
        print(f"{r['count']:>10,} {r['wall']:>8.1f} {r['count'] / r['wall']:>10,.0f} "
              f"{r['rss_before'] / 1024:>15.1f} {r['peak'] / 1024:>13.1f} "
              f"{r['store'] / 2**20:>10.1f} {r['store'] / r['count']:>15.0f}", flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    command = ["python", "tests/bench/create_run/bench_create_run.py", "--sizes", args.sizes]
    if args.labels:
        command.append("--labels")
    print("reproduce: source .ci/env && " + shlex.join(command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
